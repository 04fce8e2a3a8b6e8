/* paramfile.c - file:// and fileb:// parameter values as the AWS CLI loads
 * them (awscli/paramfile.py): ~ and $VAR expanded, relative paths from the
 * current directory, text read as UTF-8 with Python's universal newlines,
 * bytes as they are, and Python's wording when a file cannot be read. */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include "cli.h"

/* os.path.expanduser: "~" and "~user" at the start. */
static void expand_user(const char *path, cli_buf *out)
{
  const char *slash, *home = NULL;
  struct passwd *pw;
  size_t name_len, hl;
  char *name;

  if (path[0] != '~') {
    cli_buf_puts(out, path);
    return;
  }
  slash = strchr(path, '/');
  name_len = slash != NULL ? (size_t)(slash - path) - 1 : strlen(path) - 1;
  if (name_len == 0) {
    home = getenv("HOME");
    if (home == NULL) {
      pw = getpwuid(getuid());
      home = pw != NULL ? pw->pw_dir : NULL;
    }
  } else {
    name = cli_xstrndup(path + 1, name_len);
    pw = getpwnam(name);
    free(name);
    home = pw != NULL ? pw->pw_dir : NULL;
  }
  if (home == NULL) {
    cli_buf_puts(out, path);
    return;
  }
  hl = strlen(home);
  while (hl > 0 && home[hl - 1] == '/')     /* userhome.rstrip('/') */
    hl--;
  cli_buf_add(out, home, hl);
  cli_buf_puts(out, path + 1 + name_len);
  if (out->len == 0)
    cli_buf_putc(out, '/');
}

static int word_char(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '_';
}

/* os.path.expandvars: $name and ${name}; unknown variables stay. */
static void expand_vars(const char *path, cli_buf *out)
{
  size_t i = 0, j, n = strlen(path);
  const char *val;
  char *name;

  while (i < n) {
    if (path[i] != '$') {
      cli_buf_putc(out, path[i++]);
      continue;
    }
    if (i + 1 < n && path[i + 1] == '{') {
      const char *close = strchr(path + i + 2, '}');
      if (close == NULL) {
        cli_buf_putc(out, path[i++]);
        continue;
      }
      j = (size_t)(close - path) + 1;
      name = cli_xstrndup(path + i + 2, (size_t)(close - path) - i - 2);
    } else {
      j = i + 1;
      while (j < n && word_char(path[j]))
        j++;
      if (j == i + 1) {
        cli_buf_putc(out, path[i++]);
        continue;
      }
      name = cli_xstrndup(path + i + 1, j - i - 1);
    }
    val = getenv(name);
    if (val != NULL)
      cli_buf_puts(out, val);
    else
      cli_buf_add(out, path + i, j - i);
    free(name);
    i = j;
  }
}

/* Reads the whole file into out; returns 0 or an errno. */
static int read_all(const char *path, cli_buf *out)
{
  char chunk[8192];
  struct stat st;
  ssize_t n;
  int fd, e = 0;

  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return errno;
  if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    close(fd);
    return EISDIR;
  }
  for (;;) {
    n = read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      e = errno;
      break;
    }
    if (n == 0)
      break;
    cli_buf_add(out, chunk, (size_t)n);
  }
  OPENSSL_cleanse(chunk, sizeof chunk);   /* it held the file's secret */
  close(fd);
  return e;
}

/* Python's universal newlines: \r\n and \r read as \n. */
static void universal_newlines(cli_buf *b)
{
  size_t i, j = 0;

  for (i = 0; i < b->len; i++) {
    if (b->data[i] == '\r') {
      b->data[j++] = '\n';
      if (i + 1 < b->len && b->data[i + 1] == '\n')
        i++;
    } else {
      b->data[j++] = b->data[i];
    }
  }
  b->len = j;
  if (b->data != NULL)
    b->data[j] = '\0';
}

int cli_paramfile(const char *value, cli_buf *out, int *binary, cli_buf *msg)
{
  const char *prefix;
  cli_buf user, path;
  int e, rc = -1;

  if (strncmp(value, "file://", 7) == 0) {
    prefix = "file://";
    *binary = 0;
  } else if (strncmp(value, "fileb://", 8) == 0) {
    prefix = "fileb://";
    *binary = 1;
  } else {
    return 0;
  }
  cli_buf_init(&user, 0);
  cli_buf_init(&path, 0);
  expand_user(value + strlen(prefix), &user);
  expand_vars(user.data != NULL ? user.data : "", &path);
  if (path.data == NULL)
    cli_buf_puts(&path, "");
  e = read_all(path.data, out);
  if (e != 0) {
    cli_buf_printf(msg, "Unable to load paramfile %s: [Errno %d] %s: ",
                   value, e, strerror(e));
    cli_pyrepr_str(msg, path.data, path.len);
    cli_buf_reset(out);
    goto cleanup;
  }
  if (!*binary) {
    if (!cli_utf8_valid(out->data != NULL ? out->data : "", out->len)) {
      cli_buf_printf(msg, "Unable to load paramfile (%s), text contents "
                     "could not be decoded.  If this is a binary file, "
                     "please use the fileb:// prefix instead of the "
                     "file:// prefix.", path.data);
      cli_buf_reset(out);
      goto cleanup;
    }
    universal_newlines(out);
  }
  if (out->data == NULL)
    cli_buf_puts(out, "");
  rc = 1;
cleanup:
  cli_buf_free(&user);
  cli_buf_free(&path);
  return rc;
}
