/* send.h - internals of the send path shared by response.c (error
 * parsing and classification), retry.c (the AWS standard and adaptive
 * retry policy, the client-side rate limiter, clock-skew correction) and
 * client.c. Not part of the public ABI; the unit tests include it. */
#ifndef KMS_SEND_H
#define KMS_SEND_H

#include "internal.h"

/* {===== response classification (response.c) ===== */

/* How the retry policy sees one failed attempt. */
typedef enum kmsi_failure {
  KMSI_FAIL_NONE = 0,       /* success, or not retryable */
  KMSI_FAIL_TRANSIENT,      /* 500/502/503/504, transient codes, dropped
                               connections, refused connections, TLS */
  KMSI_FAIL_THROTTLING,     /* one of botocore's throttling codes */
  KMSI_FAIL_TIMEOUT         /* connect or read timeout (quota cost 10) */
} kmsi_failure;

/* Classifies the outcome in err (status, http_status, aws_type) the way
 * botocore's StandardRetryConditions do. KMSI_FAIL_NONE means "do not
 * retry". */
kmsi_failure kmsi_failure_of(const kms_error *err);

/* 1 when code is in botocore's throttling list (any HTTP status). */
int kmsi_is_throttling_code(const char *code);

/* 1 when code says the request was signed with a clock too far from the
 * server's (RequestTimeTooSkewed, RequestExpired, RequestInTheFuture);
 * 2 when it may say so (InvalidSignatureException, SignatureDoesNotMatch,
 * AuthFailure: only a Date header far from our clock decides); 0
 * otherwise. */
int kmsi_is_clock_skew_code(const char *code);

/* The standard reason phrase of an HTTP status ("Gateway Timeout"), as
 * Python's http.client.responses has it; "" when unknown. */
const char *kmsi_http_reason(long status);

/* Writes the service-error text into err->message from the parsed
 * parts: "An error occurred (TYPE) when calling the OP operation: MSG"
 * (botocore's ClientError). */
void kmsi_error_set_service(kms_error *err, kms_operation op,
                            const char *type, const char *message);

/* Adds botocore's " (reached max retries: N)" before the ": " of a
 * service-error text made by kmsi_error_set_service (no-op otherwise).
 * The message may be truncated to fit. */
void kmsi_error_add_max_retries(kms_error *err, kms_operation op,
                                int retries);

/* Parses an HTTP date (IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT", and
 * the obsolete RFC 850 and asctime forms). Returns 1 and sets *out on
 * success. */
int kmsi_parse_http_date(const char *s, time_t *out);
/* }===== */

/* {===== retry policy (retry.c) ===== */

/* Injectable sources so the unit tests run instantly and
 * deterministically: a uniform random number in [0, 1), a monotonic clock
 * in seconds, a sleep, and the wall clock (seconds since the epoch). */
typedef double (*kmsi_rand_fn)(void *ud);
typedef double (*kmsi_mono_fn)(void *ud);
typedef void (*kmsi_sleep_fn)(void *ud, double seconds);
typedef time_t (*kmsi_wall_fn)(void *ud);

/* botocore's standard retry quota and its adaptive-mode limiter. */
#define KMSI_QUOTA_INITIAL 500
#define KMSI_QUOTA_RETRY_COST 5
#define KMSI_QUOTA_TIMEOUT_COST 10
#define KMSI_QUOTA_SUCCESS_REFUND 1
#define KMSI_BACKOFF_MAX 20.0
/* A possible clock-skew error is taken as one when the server's Date is
 * further than this from our (corrected) clock; the AWS Java SDK's
 * threshold. */
#define KMSI_SKEW_THRESHOLD 240

typedef struct kmsi_retry {
  kmsi_retry_mode mode;
  int max_attempts;          /* >= 1 */
  double backoff_scale;      /* 1.0; KMS_TEST_BACKOFF_SCALE shrinks it */
  int quota;                 /* tokens available, 0..KMSI_QUOTA_INITIAL */
  long skew;                 /* seconds added to the local clock */

  kmsi_rand_fn rand_fn; void *rand_ud;
  kmsi_mono_fn mono_fn; void *mono_ud;
  kmsi_sleep_fn sleep_fn; void *sleep_ud;
  kmsi_wall_fn wall_fn; void *wall_ud;

  /* Adaptive mode: botocore's ClientRateLimiter (CUBIC rate adjustor,
   * token bucket, measured send rate). */
  int limiter_enabled;
  double bucket_rate;        /* fill rate, tokens/s (>= 0.5) */
  double bucket_max;         /* capacity (>= 1) */
  double bucket_tokens;
  double bucket_last;        /* time of the last refill; < 0: never */
  double cubic_w_max, cubic_k, cubic_last_fail;
  double rate_measured;
  double rate_last_bucket;
  long rate_count;
} kmsi_retry;

/* State of one call (one operation with all its attempts). */
typedef struct kmsi_retry_call {
  int attempts;              /* attempts sent so far */
  int skew_retries;          /* clock-skew corrections (at most 1) */
  int quota_held;            /* tokens taken for the last retry, 0: none */
} kmsi_retry_call;

/* Sets up a policy with the real sources (random from OpenSSL's RAND
 * falling back to rand(), CLOCK_MONOTONIC, nanosleep, time()). */
void kmsi_retry_init(kmsi_retry *r, kmsi_retry_mode mode, int max_attempts);

/* Replaces the sources; a NULL fn keeps the current one. For tests. */
void kmsi_retry_set_sources(kmsi_retry *r, kmsi_rand_fn rnd, void *rnd_ud,
                            kmsi_mono_fn mono, void *mono_ud,
                            kmsi_sleep_fn slp, void *slp_ud,
                            kmsi_wall_fn wall, void *wall_ud);

/* The wall clock corrected by the learned skew: what requests are signed
 * with. */
time_t kmsi_retry_now(const kmsi_retry *r);

/* The standard backoff before attempt (attempt + 1), attempt being the
 * 1-based number of the attempt that failed: rand(0,1) * 2^(attempt-1)
 * seconds, capped at 20, times backoff_scale. */
double kmsi_retry_backoff(kmsi_retry *r, int attempt);

/* Adaptive mode, before each attempt is sent: takes a token from the
 * client-side bucket once throttling has been seen, sleeping until one is
 * there. Returns the seconds slept (0 in standard mode). */
double kmsi_retry_before_send(kmsi_retry *r);

/* The same for a host that sends by itself and must not block: takes the
 * token at once (the bucket may go into debt) and returns the seconds the
 * caller must wait before sending (0 in standard mode). Never sleeps. */
double kmsi_retry_acquire(kmsi_retry *r);

/* What to do after an attempt. */
typedef enum kmsi_retry_action {
  KMSI_RETRY_STOP = 0,       /* success, or give up: report err */
  KMSI_RETRY_AGAIN = 1,      /* sleep *delay seconds, then resend */
  KMSI_RETRY_SKEW = 2        /* the clock was corrected: resend now */
} kmsi_retry_action;

/* Called after every attempt with its outcome in err (status KMS_OK for
 * a 2xx). server_date is the response's Date header (0 when none or no
 * response). Updates the quota, the adaptive limiter and the clock skew,
 * and decides. *why receives a static reason for the debug log ("max
 * attempts reached", "retry quota exhausted", "not retryable", ...).
 * The clock-skew retry happens once per call, sends at once, costs no
 * quota and does not count toward max_attempts. */
kmsi_retry_action kmsi_retry_after(kmsi_retry *r, kmsi_retry_call *call,
                                   const kms_error *err, time_t server_date,
                                   double *delay, const char **why);

/* 1 when the call's last attempt used up max_attempts, which is when
 * botocore adds " (reached max retries: N)" to a service error. */
int kmsi_retry_exhausted(const kmsi_retry *r, const kmsi_retry_call *call);
/* }===== */

#endif /* KMS_SEND_H */
