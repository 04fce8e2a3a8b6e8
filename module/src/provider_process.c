/* provider_process.c - the profile's credential_process: split the command
 * line as botocore does (shlex.split, no shell), run it, and read its JSON
 * (Version 1) from stdout; an Expiration makes the credentials refresh by
 * running it again. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "provider.h"

extern char **environ;

#define WHAT "Error when retrieving credentials from custom-process"
#define MAX_STDOUT (64u * 1024u)
#define MAX_STDERR 1024u

typedef struct process_provider {
  kmsi_provider base;
  char *profile;
} process_provider;

static void process_destroy(kmsi_provider *p)
{
  process_provider *pp = (process_provider *)p;
  kmsi_free(&p->chain->a, pp->profile, strlen(pp->profile) + 1);
}

/* {===== shlex.split (POSIX mode) ===== */

typedef struct argv_buf {
  kms_buf text;     /* the words, each NUL-terminated */
  size_t count;
} argv_buf;

/* Splits cmd into words as Python's shlex.split does: whitespace
 * separates, '...' is literal, "..." allows \" and \\ escapes, a
 * backslash outside quotes escapes any character, and "" is an empty
 * word. Returns NULL or a static error text ("No closing quotation",
 * "No escaped character"); *nomem is set on allocation failure. */
static const char *shlex_split(const char *cmd, argv_buf *out, int *nomem)
{
  const char *p = cmd;
  int in_word = 0;
  char quote = 0;

  *nomem = 0;
  for (; *p; p++) {
    char ch = *p;
    kms_status st = KMS_OK;
    if (quote == '\'') {
      if (ch == '\'')
        quote = 0;
      else
        st = kmsi_buf_putc(&out->text, ch);
    } else if (quote == '"') {
      if (ch == '"') {
        quote = 0;
      } else if (ch == '\\') {
        if (!p[1])
          return "No closing quotation";
        if (p[1] != '"' && p[1] != '\\')
          st = kmsi_buf_putc(&out->text, '\\');
        if (st == KMS_OK)
          st = kmsi_buf_putc(&out->text, *++p);
      } else {
        st = kmsi_buf_putc(&out->text, ch);
      }
    } else if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n') {
      if (in_word) {
        st = kmsi_buf_putc(&out->text, '\0');
        out->count++;
        in_word = 0;
      }
    } else {
      in_word = 1;
      if (ch == '\'' || ch == '"') {
        quote = ch;
      } else if (ch == '\\') {
        if (!p[1])
          return "No escaped character";
        st = kmsi_buf_putc(&out->text, *++p);
      } else {
        st = kmsi_buf_putc(&out->text, ch);
      }
    }
    if (st != KMS_OK) {
      *nomem = 1;
      return NULL;
    }
  }
  if (quote)
    return "No closing quotation";
  if (in_word) {
    if (kmsi_buf_putc(&out->text, '\0') != KMS_OK) {
      *nomem = 1;
      return NULL;
    }
    out->count++;
  }
  return NULL;
}
/* }===== */

/* {===== running the command ===== */

/* Reads what is available on fd into b (up to max bytes kept, the rest
 * drained). Returns 0 at end of file, 1 when more may come, -1 on nomem. */
static int drain(int fd, kms_buf *b, size_t max)
{
  char chunk[4096];
  ssize_t n = read(fd, chunk, sizeof chunk);
  int r = 1;

  if (n < 0)
    r = errno == EINTR || errno == EAGAIN ? 1 : 0;
  else if (n == 0)
    r = 0;
  else if (b->len < max &&
           kmsi_buf_append(b, chunk, (size_t)n > max - b->len
                                         ? max - b->len
                                         : (size_t)n) != KMS_OK)
    r = -1;
  kmsi_wipe(chunk, sizeof chunk);
  return r;
}

/* Runs words (count of them, NUL-separated in text) through
 * /bin/sh -c 'exec "$@"', which looks the program up in PATH as Popen
 * does, with each word passed as its own argument: nothing in them is
 * interpreted by the shell. Collects stdout (secret) and stderr, and
 * the exit status (*status as waitpid gives it). */
static kms_status run(const kmsi_allocator *a, const argv_buf *words,
                      kms_buf *out, kms_buf *errout, int *status,
                      kms_error *err)
{
  kms_status result = KMS_ERR_CREDENTIALS;
  int outp[2] = {-1, -1}, errp[2] = {-1, -1}, fa_ok = 0, i;
  posix_spawn_file_actions_t fa;
  char **argv = NULL;
  size_t argc = words->count + 5, k;
  const char *w;
  pid_t pid = -1;
  struct pollfd fds[2];

  argv = kmsi_calloc(a, argc * sizeof *argv);
  if (!argv) {
    result = kmsi_error(err, KMS_ERR_NOMEM, "credentials: out of memory");
    goto cleanup;
  }
  argv[0] = (char *)"/bin/sh";
  argv[1] = (char *)"-c";
  argv[2] = (char *)"exec \"$@\"";
  argv[3] = (char *)"sh";
  /* argv[argc - 1] stays NULL. */
  for (k = 0, w = words->text.data; k < words->count; k++) {
    argv[4 + k] = (char *)w;
    w += strlen(w) + 1;
  }
  if (pipe(outp) != 0 || pipe(errp) != 0) {
    kmsi_error(err, KMS_ERR_CREDENTIALS, WHAT ": pipe: %s", strerror(errno));
    goto cleanup;
  }
  for (i = 0; i < 2; i++) {
    fcntl(outp[i], F_SETFD, FD_CLOEXEC);
    fcntl(errp[i], F_SETFD, FD_CLOEXEC);
  }
  if (posix_spawn_file_actions_init(&fa) != 0) {
    result = kmsi_error(err, KMS_ERR_NOMEM, "credentials: out of memory");
    goto cleanup;
  }
  fa_ok = 1;
  if (posix_spawn_file_actions_adddup2(&fa, outp[1], 1) != 0 ||
      posix_spawn_file_actions_adddup2(&fa, errp[1], 2) != 0) {
    result = kmsi_error(err, KMS_ERR_NOMEM, "credentials: out of memory");
    goto cleanup;
  }
  i = posix_spawn(&pid, "/bin/sh", &fa, NULL, argv, environ);
  if (i != 0) {
    pid = -1;
    kmsi_error(err, KMS_ERR_CREDENTIALS, WHAT ": cannot run /bin/sh: %s",
               strerror(i));
    goto cleanup;
  }
  close(outp[1]);
  close(errp[1]);
  outp[1] = errp[1] = -1;
  fds[0].fd = outp[0];
  fds[1].fd = errp[0];
  while (fds[0].fd >= 0 || fds[1].fd >= 0) {
    fds[0].events = fds[1].events = POLLIN;
    fds[0].revents = fds[1].revents = 0;
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR)
        continue;
      break;
    }
    for (i = 0; i < 2; i++) {
      int r;
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
        continue;
      r = drain(fds[i].fd, i == 0 ? out : errout,
                i == 0 ? MAX_STDOUT : MAX_STDERR);
      if (r < 0) {
        result = kmsi_error(err, KMS_ERR_NOMEM, "credentials: out of memory");
        goto cleanup;
      }
      if (r == 0)
        fds[i].fd = -1;  /* closed below with the pipe */
    }
  }
  result = KMS_OK;
cleanup:
  for (i = 0; i < 2; i++) {
    if (outp[i] >= 0)
      close(outp[i]);
    if (errp[i] >= 0)
      close(errp[i]);
  }
  if (pid > 0) {
    while (waitpid(pid, status, 0) < 0 && errno == EINTR)
      ;
  }
  if (fa_ok)
    posix_spawn_file_actions_destroy(&fa);
  if (argv)
    kmsi_free(a, argv, argc * sizeof *argv);
  return result;
}
/* }===== */

/* Keeps the first line of the command's stderr, without its newline,
 * for the error message (botocore prints all of it). */
static const char *first_line(kms_buf *b)
{
  size_t n;
  if (!b->data)
    return "";
  n = strcspn(b->data, "\r\n");
  b->data[n] = '\0';
  return b->data;
}

static kms_status process_fetch(kmsi_provider *p, time_t now,
                                kms_credentials **out, kms_error *err)
{
  process_provider *pp = (process_provider *)p;
  kmsi_cred_chain *c = p->chain;
  const char *cmd = kmsi_profiles_get(c->profiles, pp->profile,
                                      "credential_process");
  kms_status result = KMS_OK;
  argv_buf words;
  kms_buf sout, serr;
  const char *why;
  int nomem = 0, status = 0, version = 0;
  (void)now;

  kmsi_buf_init(&words.text, &c->a, 1);
  words.count = 0;
  kmsi_buf_init(&sout, &c->a, 1);
  kmsi_buf_init(&serr, &c->a, 1);
  if (!cmd || !*cmd)
    goto cleanup;
  why = shlex_split(cmd, &words, &nomem);
  if (nomem) {
    result = kmsi_error(err, KMS_ERR_NOMEM, "credentials: out of memory");
    goto cleanup;
  }
  if (why || words.count == 0) {
    result = kmsi_error(err, KMS_ERR_CREDENTIALS,
                        WHAT ": credential_process: %s",
                        why ? why : "empty command");
    goto cleanup;
  }
  kmsi_cred_log(c, KMS_LOG_DEBUG,
                "credentials: running the credential_process of profile %s",
                pp->profile);
  result = run(&c->a, &words, &sout, &serr, &status, err);
  if (result != KMS_OK)
    goto cleanup;
  if (WIFSIGNALED(status)) {
    result = kmsi_error(err, KMS_ERR_CREDENTIALS,
                        WHAT ": the command was killed by signal %d",
                        WTERMSIG(status));
    goto cleanup;
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    result = kmsi_error(err, KMS_ERR_CREDENTIALS, WHAT ": %s",
                        first_line(&serr));
    goto cleanup;
  }
  result = kmsi_creds_from_json(c, WHAT, sout.data ? sout.data : "",
                                sout.len, "SessionToken", "Expiration",
                                &version, out, err);
  if (result == KMS_OK && !*out) {
    if (version < 0)
      result = kmsi_error(err, KMS_ERR_CREDENTIALS,
                          WHAT ": Unsupported version '<Version key not "
                          "provided>' for credential process provider, "
                          "supported versions: 1");
    else
      result = kmsi_error(err, KMS_ERR_CREDENTIALS,
                          WHAT ": Unsupported version '%d' for credential "
                          "process provider, supported versions: 1",
                          version);
  }
cleanup:
  kms_buf_free(&words.text);
  kms_buf_free(&sout);
  kms_buf_free(&serr);
  return result;
}

kmsi_provider *kmsi_provider_process(kmsi_cred_chain *c, const char *profile,
                                     kms_error *err)
{
  process_provider *pp = (process_provider *)kmsi_provider_alloc(
      c, sizeof *pp, "custom-process", process_fetch, err);
  if (!pp)
    return NULL;
  pp->profile = kmsi_strndup(&c->a, profile, strlen(profile));
  if (!pp->profile) {
    kmsi_free(&c->a, pp, sizeof *pp);
    kmsi_error(err, KMS_ERR_NOMEM, "credentials: out of memory");
    return NULL;
  }
  pp->base.destroy = process_destroy;
  return &pp->base;
}
