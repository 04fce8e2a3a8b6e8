/* test_paramfile.c - file:// and fileb:// (bindings/cli/paramfile.c)
 * without the core, in a scratch directory: contents byte for byte, the
 * trailing newline kept, Python's universal newlines for text, ~ and $VAR,
 * and the AWS CLI's wording for a file that cannot be read. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "../unit/testing.h"
#include "cli.h"

static void write_file(const char *path, const char *data, size_t n)
{
  FILE *f = fopen(path, "wb");
  if (f != NULL) {
    fwrite(data, 1, n, f);
    fclose(f);
  }
}

/* Loads value; returns the rc and puts the contents or message in out. */
static int load(const char *value, cli_buf *out, int *binary)
{
  cli_buf msg;
  int rc;

  cli_buf_init(&msg, 0);
  cli_buf_reset(out);
  rc = cli_paramfile(value, out, binary, &msg);
  if (rc == -1) {
    cli_buf_reset(out);
    cli_buf_add(out, msg.data, msg.len);
  }
  cli_buf_free(&msg);
  return rc;
}

int main(void)
{
  char dir[] = "/tmp/kmscks-paramfile-XXXXXX", path[256], value[300];
  cli_buf out;
  int binary = -1;

  if (mkdtemp(dir) == NULL || chdir(dir) != 0) {
    printf("could not make a scratch directory\n");
    return 1;
  }
  cli_buf_init(&out, 1);
  write_file("name.txt", "My Store\n", 9);
  write_file("crlf.txt", "A\r\nB\rC\r\n", 8);
  write_file("bin.dat", "\x00\xff\r\n", 4);
  write_file("latin1.txt", "caf\xe9", 4);
  mkdir("adir", 0700);

  OK(load("plain value", &out, &binary) == 0, "not a file reference");
  OK(load("file://name.txt", &out, &binary) == 1 && binary == 0,
     "file:// relative");
  EQ_STR(out.data, "My Store\n", "the trailing newline is kept");
  snprintf(value, sizeof value, "file://%s/name.txt", dir);
  OK(load(value, &out, &binary) == 1, "file:// absolute");
  EQ_STR(out.data, "My Store\n", "absolute contents");
  OK(load("file://crlf.txt", &out, &binary) == 1, "CRLF file");
  EQ_STR(out.data, "A\nB\nC\n", "universal newlines, as Python reads text");
  OK(load("fileb://bin.dat", &out, &binary) == 1 && binary == 1 &&
     out.len == 4 && memcmp(out.data, "\x00\xff\r\n", 4) == 0,
     "fileb:// keeps the bytes");
  OK(load("file://latin1.txt", &out, &binary) == -1, "text must be UTF-8");
  OK(strstr(out.data, "text contents could not be decoded") != NULL,
     "the decode message");
  OK(load("file://missing.txt", &out, &binary) == -1, "missing file");
  EQ_STR(out.data, "Unable to load paramfile file://missing.txt: [Errno 2] "
                   "No such file or directory: 'missing.txt'",
         "Python's message for a missing file");
  OK(load("file://adir", &out, &binary) == -1, "a directory");
  EQ_STR(out.data, "Unable to load paramfile file://adir: [Errno 21] Is a "
                   "directory: 'adir'", "Python's message for a directory");
  setenv("HOME", dir, 1);
  OK(load("file://~/name.txt", &out, &binary) == 1, "~ is HOME");
  EQ_STR(out.data, "My Store\n", "contents through ~");
  setenv("KMSCKS_T_DIR", dir, 1);
  OK(load("file://$KMSCKS_T_DIR/name.txt", &out, &binary) == 1 &&
     load("file://${KMSCKS_T_DIR}/name.txt", &out, &binary) == 1,
     "$VAR and ${VAR}");
  OK(load("file://$KMSCKS_T_UNSET/name.txt", &out, &binary) == -1 &&
     strstr(out.data, "'$KMSCKS_T_UNSET/name.txt'") != NULL,
     "an unknown variable stays");

  snprintf(path, sizeof path, "%s/name.txt", dir);
  unlink(path);
  unlink("crlf.txt");
  unlink("bin.dat");
  unlink("latin1.txt");
  rmdir("adir");
  if (chdir("/") == 0)
    rmdir(dir);
  cli_buf_free(&out);
  return t_done();
}
