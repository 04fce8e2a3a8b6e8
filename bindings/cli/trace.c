/* trace.c - the --debug trace on stderr, in the AWS CLI's line shape
 * ("<time> - <who> - DEBUG - <text>"). The core writes most of it through
 * its log callback (region, endpoint, credential source, canonical
 * request, string to sign, redacted headers, attempts, backoff), never
 * with a secret; the CLI adds its arguments, with every value that may be
 * a secret masked. */
#include <stdarg.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include "cli_core.h"

static int trace_enabled;

void cli_trace_enable(void)
{
  trace_enabled = 1;
}

int cli_trace_on(void)
{
  return trace_enabled;
}

static void line(const char *who, const char *level, const char *text)
{
  struct timeval tv;
  struct tm tm;
  char stamp[32];

  gettimeofday(&tv, NULL);
  localtime_r(&tv.tv_sec, &tm);
  strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
  fprintf(stderr, "%s,%03ld - %s - %s - %s\n", stamp,
          (long)(tv.tv_usec / 1000), who, level, text);
}

void cli_trace(const char *fmt, ...)
{
  cli_buf b;
  va_list ap;
  char probe[1];
  int n;

  if (!trace_enabled || fmt == NULL)  /* see cli_buf_printf */
    return;
  cli_buf_init(&b, 0);
  va_start(ap, fmt);
  n = vsnprintf(probe, sizeof probe, fmt, ap);
  va_end(ap);
  if (n > 0) {
    cli_buf_fill(&b, '\0', (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b.data, (size_t)n + 1, fmt, ap);
    va_end(ap);
  }
  line("kmscks", "DEBUG", b.data != NULL ? b.data : "");
  cli_buf_free(&b);
}

void cli_trace_log(void *ud, kms_log_level level, const char *msg)
{
  (void)ud;
  line("libkmscks", level <= KMS_LOG_ERROR ? "ERROR"
                    : level == KMS_LOG_WARNING ? "WARNING"
                    : level == KMS_LOG_INFO ? "INFO" : "DEBUG", msg);
}

/* A value is shown only when it follows a known option that is not
 * secret. What follows a secret option, an unknown option (a mistyped
 * --key-store-pasword), or another masked value is masked, and so is a
 * file reference's content, which is never read here anyway. */
void cli_trace_argv(int argc, char **argv)
{
  cli_buf b;
  int i, mask_next = 0;

  if (!trace_enabled)
    return;
  cli_buf_init(&b, 0);
  cli_buf_putc(&b, '[');
  for (i = 1; i < argc; i++) {
    const char *t = argv[i], *eq = strchr(t, '=');
    size_t name_len = eq != NULL ? (size_t)(eq - t) : strlen(t);
    int opt = -1, masked = 0;

    if (t[0] == '-' && t[1] == '-' && t[2] != '\0') {
      opt = cli_opt_match(t, name_len);
      if (eq != NULL)
        masked = opt < 0 || cli_opt_is_secret((cli_opt)opt);
      mask_next = eq == NULL && (opt < 0 || cli_opt_is_secret((cli_opt)opt));
      if (i > 1)
        cli_buf_puts(&b, ", ");
      cli_buf_putc(&b, '\'');
      cli_buf_add(&b, t, masked ? name_len + 1 : strlen(t));
      if (masked)
        cli_buf_puts(&b, "***");
      cli_buf_putc(&b, '\'');
      continue;
    }
    if (i > 1)
      cli_buf_puts(&b, ", ");
    if (mask_next)
      cli_buf_puts(&b, "'***'");
    else
      cli_pyrepr_str(&b, t, strlen(t));
  }
  cli_buf_putc(&b, ']');
  cli_trace("Arguments entered to CLI: %s", b.data);
  cli_buf_free(&b);
}
