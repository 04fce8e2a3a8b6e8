/* test_help.c - the manual (bindings/cli/kmscks-update-custom-key-store.1,
 * rendered by help.c) against the option tables: every option the parser
 * takes is documented, the sections come in the AWS CLI's order, and the
 * skeletons are the AWS CLI's documents. Without the core. */
#include <string.h>
#include "capture.h"
#include "../unit/testing.h"
#include "cli.h"

int main(void)
{
  static const char *const sections[] = {
    "\nNAME\n", "\nDESCRIPTION\n", "\nSYNOPSIS\n", "\nOPTIONS\n",
    "\nGLOBAL OPTIONS\n", "\nEXAMPLES\n", "\nOUTPUT\n", "\nEXIT STATUS\n",
  };
  const char *last = NULL, *at;
  char *text, *json, *yaml;
  FILE *tmp;
  size_t i;
  int opt, saved;

  saved = capture_begin(1, &tmp);
  OK(cli_help_print(stdout) == 0, "help prints");
  text = capture_end(1, saved, tmp);
  for (i = 0; i < sizeof sections / sizeof sections[0]; i++) {
    at = strstr(text, sections[i]);
    OK(at != NULL && (last == NULL || at > last), "section %.*s in order",
       (int)strlen(sections[i]) - 2, sections[i] + 1);
    if (at != NULL)
      last = at;
  }
  {
    const char *syn = strstr(text, "\nSYNOPSIS\n");
    const char *opts = strstr(text, "\nOPTIONS\n");
    const char *examples = strstr(text, "\nEXAMPLES\n");
    for (opt = 0; opt < CLI_OPT__COUNT && syn && opts && examples; opt++) {
      char tagged[96];
      const char *name = cli_opt_name((cli_opt)opt), *hit;
      /* as a tag: at the start of a line, or after ", " or " | " */
      snprintf(tagged, sizeof tagged, " %s", name);
      hit = strstr(opts, tagged);
      OK(hit != NULL && hit < examples, "%s is documented", name);
      hit = strstr(syn, name);
      OK(hit != NULL && hit < opts, "%s is in the synopsis", name);
    }
  }
  OK(strstr(text, "\\f") == NULL && strstr(text, "\\-") == NULL,
     "no troff escape is left");
  free(text);

  saved = capture_begin(1, &tmp);
  OK(cli_skeleton_print("input", stdout) == 0, "input skeleton");
  json = capture_end(1, saved, tmp);
  OK(strncmp(json, "{\n    \"CustomKeyStoreId\": \"\",\n", 30) == 0 &&
     strstr(json, "    \"XksProxyConnectivity\": \"PUBLIC_ENDPOINT\"\n}\n")
         != NULL, "input skeleton shape");
  saved = capture_begin(1, &tmp);
  OK(cli_skeleton_print("yaml-input", stdout) == 0, "yaml skeleton");
  yaml = capture_end(1, saved, tmp);
  OK(strstr(yaml, "CustomKeyStoreId: ''  # [REQUIRED] Identifies") == yaml &&
     strstr(yaml, "  RawSecretAccessKey: '' # [REQUIRED] A secret string of "
                  "43-64 characters.\n") != NULL, "yaml skeleton shape");
  OK(cli_skeleton_print("output", stdout) == -1, "no output document");
  free(json);
  free(yaml);
  return t_done();
}
