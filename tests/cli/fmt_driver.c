/* fmt_driver.c - test driver for the CLI's output formatters, built from
 * bindings/cli without the core: reads a JSON document from stdin and
 * prints it in the --output format given as argv[1] ("table" takes
 * argv[2] "on"/"off" for colour and argv[3] for the terminal width). */
#include <stdlib.h>
#include <string.h>
#include "cli.h"

int main(int argc, char **argv)
{
  cli_buf in, out;
  cli_value *v = NULL;
  cli_json_error e;
  char error[128] = "";
  int rc = 1, color = 0, width = 80, c;

  if (argc < 2) {
    fprintf(stderr, "usage: fmt_driver FORMAT [on|off] [WIDTH] < json\n");
    return 2;
  }
  if (argc > 2)
    color = strcmp(argv[2], "on") == 0;
  if (argc > 3)
    width = atoi(argv[3]);
  cli_buf_init(&in, 0);
  cli_buf_init(&out, 0);
  while ((c = getchar()) != EOF)
    cli_buf_putc(&in, (char)c);
  if (cli_json_parse(in.data ? in.data : "", in.len, &v, &e) != 0) {
    fprintf(stderr, "bad json: %s\n", e.message);
    goto cleanup;
  }
  rc = cli_format_response(argv[1], v, "UpdateCustomKeyStore", color, width,
                           &out, error, sizeof error);
  if (rc != 0) {
    fprintf(stderr, "error %d: %s\n", rc, error);
    rc = 3;
    goto cleanup;
  }
  cli_buf_write(&out, stdout);
  rc = 0;
cleanup:
  cli_value_free(v);
  cli_buf_free(&in);
  cli_buf_free(&out);
  return rc;
}
