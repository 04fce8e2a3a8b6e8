/* cli_core.h - the CLI's internals that speak the core's types: building
 * the kms_request, the kms_config and client, the exit-status table and
 * the --debug trace. Split from cli.h so the pure parts build (and are
 * unit-tested) without the core. */
#ifndef KMSCKS_CLI_CORE_H
#define KMSCKS_CLI_CORE_H

#include "cli.h"
#include "kms/kms.h"

/* {===== the request (build.c) ===== */

/* Loads the input document (if any) and sets the options over it.
 * botocore's type errors that the core's API cannot express (an unknown
 * credential key, a list where a string goes, fileb:// bytes) and a
 * document the core refuses (*doc_refused = 1; nothing else is set then)
 * are appended to problems, one line each, to be reported with the
 * validation problems. Returns a core status for anything else (nomem). */
kms_status cli_build_request(const cli_args *a, const cli_unpacked *u,
                             const cli_value *doc, kms_request *req,
                             cli_buf *problems, int *doc_refused,
                             kms_error *err);
/* }===== */

/* {===== configuration, client, exit statuses (setup.c) ===== */

/* The checks the AWS CLI makes right after its first pass, in its order:
 * --query compiles (252), --endpoint-url has a scheme (252), the
 * timeouts are integers (255). Returns 0 or the exit status after
 * printing. */
int cli_check_globals(const cli_args *a);

/* A kms_config with the global options (region, profile, endpoint,
 * TLS, timeouts, signing) and, with --debug, the trace as its log. */
int cli_config_new(const cli_args *a, kms_config **out);

/* The --output format in effect, as the AWS CLI finds it: the option,
 * AWS_DEFAULT_OUTPUT, the profile's "output", json. Not checked here:
 * an unknown one fails after the request, as in the AWS CLI. */
void cli_output_format(const cli_args *a, const kms_config *cfg,
                       char *out, size_t size);

/* The exit status for a core status: the one table of the CLI. */
int cli_exit_status(kms_status st);

/* Prints err's message the AWS CLI v2 way and returns its exit status. */
int cli_fail(const kms_error *err);
/* }===== */

/* {===== --debug (trace.c) ===== */

void cli_trace_enable(void);
int cli_trace_on(void);
/* One trace line: "<time> - kmscks - DEBUG - <text>". */
void cli_trace(const char *fmt, ...) CLI_PRINTF(1, 2);
/* The core's log sink (a kms_log_fn). */
void cli_trace_log(void *ud, kms_log_level level, const char *msg);
/* "Arguments entered to CLI: [...]" with every value that may be a
 * secret replaced by '***'. */
void cli_trace_argv(int argc, char **argv);
/* }===== */

#endif /* KMSCKS_CLI_CORE_H */
