/* shorthand_driver.c - test driver for the shorthand parser, built from
 * bindings/cli without the core: parses argv[1] and prints the result as
 * one line of JSON, or "ERROR" and the (masked) message. */
#include <string.h>
#include "cli.h"

int main(int argc, char **argv)
{
  cli_value *v = NULL;
  cli_buf out, msg;
  int rc;

  if (argc != 2) {
    fprintf(stderr, "usage: shorthand_driver VALUE\n");
    return 2;
  }
  cli_buf_init(&out, 0);
  cli_buf_init(&msg, 0);
  rc = cli_shorthand_parse(argv[1], strlen(argv[1]), &v, &msg);
  if (rc == 0) {
    cli_json_dump(&out, v, -1, 0);
    printf("%s\n", out.data);
  } else {
    printf("ERROR\n%s", msg.data);
  }
  cli_value_free(v);
  cli_buf_free(&out);
  cli_buf_free(&msg);
  return 0;
}
