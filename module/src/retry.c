/* retry.c - the AWS "standard" and "adaptive" retry modes as botocore
 * implements them (retries/standard.py, quota.py, adaptive.py, bucket.py,
 * throttling.py): attempt limit, exponential backoff with full jitter, the
 * retry quota, the CUBIC client-side rate limiter, plus a clock-skew
 * correction that botocore lacks. Pure policy: the caller sends. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/rand.h>
#include "send.h"

/* {===== small math (no libm needed) ===== */

static double dmin(double a, double b)
{
  return a < b ? a : b;
}

static double dmax(double a, double b)
{
  return a > b ? a : b;
}

static double dfloor(double x)
{
  double t = (double)(long long)x;
  return t > x ? t - 1 : t;
}

/* Cube root by Newton's method; x >= 0 here (a rate). */
static double dcbrt(double x)
{
  double y;
  int i;
  if (!(x > 0))
    return 0;
  y = x > 1 ? x / 3 : 1;
  for (i = 0; i < 100; i++) {
    double next = y - (y * y * y - x) / (3 * y * y);
    if (next == y)
      break;
    y = next;
  }
  return y;
}
/* }===== */

/* {===== default sources ===== */

static double real_rand(void *ud)
{
  uint64_t r;
  (void)ud;
  if (RAND_bytes((unsigned char *)&r, sizeof r) != 1)
    r = ((uint64_t)rand() << 32) ^ (uint64_t)rand();
  return (double)(r >> 11) / 9007199254740992.0; /* 53 bits: [0, 1) */
}

static double real_mono(void *ud)
{
  struct timespec ts;
  (void)ud;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void real_sleep(void *ud, double seconds)
{
  struct timespec ts, rem;
  (void)ud;
  if (!(seconds > 0))
    return;
  ts.tv_sec = (time_t)seconds;
  ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
  while (nanosleep(&ts, &rem) != 0 && errno == EINTR)
    ts = rem;
}

static time_t real_wall(void *ud)
{
  (void)ud;
  return time(NULL);
}
/* }===== */

/* {===== adaptive mode: CUBIC rate adjustor, token bucket, rate clock =====
 * A faithful port of botocore's ClientRateLimiter. The limiter works in
 * "policy time", the monotonic clock divided by backoff_scale, so the
 * test-only scale shrinks its sleeps consistently with its refills. */

#define CUBIC_SCALE 0.4
#define CUBIC_BETA 0.7
#define BUCKET_MIN_RATE 0.5
#define RATE_SMOOTHING 0.8
#define RATE_BUCKET_RANGE 0.5
#define MAX_RATE_ADJUST_SCALE 2.0

static double policy_now(const kmsi_retry *r)
{
  return r->mono_fn(r->mono_ud) / r->backoff_scale;
}

static void policy_sleep(const kmsi_retry *r, double seconds)
{
  r->sleep_fn(r->sleep_ud, seconds * r->backoff_scale);
}

static double cubic_zero_point(const kmsi_retry *r)
{
  return dcbrt(r->cubic_w_max * (1 - CUBIC_BETA) / CUBIC_SCALE);
}

static void bucket_refill(kmsi_retry *r)
{
  double now = policy_now(r), fill;
  if (r->bucket_last < 0) {
    r->bucket_last = now;
    return;
  }
  fill = (now - r->bucket_last) * r->bucket_rate;
  r->bucket_tokens = dmin(r->bucket_max, r->bucket_tokens + fill);
  r->bucket_last = now;
}

/* TokenBucket.max_rate's setter. */
static void bucket_set_rate(kmsi_retry *r, double value)
{
  bucket_refill(r);
  r->bucket_rate = dmax(value, BUCKET_MIN_RATE);
  r->bucket_max = value >= 1 ? value : 1;
  r->bucket_tokens = dmin(r->bucket_tokens, r->bucket_max);
}

/* RateClocker.record(): the smoothed send rate over 0.5 s buckets. */
static double rate_record(kmsi_retry *r)
{
  double t = policy_now(r);
  double bucket = dfloor(t / RATE_BUCKET_RANGE) * RATE_BUCKET_RANGE;
  double current;

  r->rate_count++;
  if (bucket > r->rate_last_bucket) {
    current = (double)r->rate_count / (bucket - r->rate_last_bucket);
    r->rate_measured = current * RATE_SMOOTHING +
                       r->rate_measured * (1 - RATE_SMOOTHING);
    r->rate_count = 0;
    r->rate_last_bucket = bucket;
  }
  return r->rate_measured;
}

/* ClientRateLimiter.on_receiving_response, run after every attempt. */
static void limiter_update(kmsi_retry *r, int throttled)
{
  double measured = rate_record(r), now = policy_now(r), new_rate, use;

  if (!throttled) {
    /* CubicCalculator.success_received */
    double x = now - r->cubic_last_fail - r->cubic_k;
    new_rate = CUBIC_SCALE * x * x * x + r->cubic_w_max;
  } else {
    use = r->limiter_enabled ? dmin(measured, r->bucket_rate) : measured;
    /* CubicCalculator.error_received */
    r->cubic_w_max = use;
    r->cubic_k = cubic_zero_point(r);
    r->cubic_last_fail = now;
    new_rate = use * CUBIC_BETA;
    r->limiter_enabled = 1;
  }
  bucket_set_rate(r, dmin(new_rate, MAX_RATE_ADJUST_SCALE * measured));
}

double kmsi_retry_before_send(kmsi_retry *r)
{
  double slept = 0, wait;

  if (r->mode != KMSI_RETRY_ADAPTIVE || !r->limiter_enabled)
    return 0;
  bucket_refill(r);
  while (r->bucket_tokens < 1) {
    /* At least 1 ns: with a coarse clock (1 - tokens) may round to a
     * wait that never lets the bucket refill. */
    wait = dmax((1 - r->bucket_tokens) / r->bucket_rate, 1e-9);
    policy_sleep(r, wait);
    slept += wait * r->backoff_scale;
    bucket_refill(r);
  }
  r->bucket_tokens -= 1;
  return slept;
}

/* The same without sleeping: the token is taken at once, leaving the
 * bucket in debt when it held less than one, and the wait that repays
 * the debt is returned. Callers that take tokens before the earlier
 * waits are over queue up behind them, as they would in a blocking
 * acquire. */
double kmsi_retry_acquire(kmsi_retry *r)
{
  double wait = 0;

  if (r->mode != KMSI_RETRY_ADAPTIVE || !r->limiter_enabled)
    return 0;
  bucket_refill(r);
  if (r->bucket_tokens < 1)
    wait = (1 - r->bucket_tokens) / r->bucket_rate;
  r->bucket_tokens -= 1;
  return wait * r->backoff_scale;
}
/* }===== */

/* {===== the policy ===== */

static void limiter_reset(kmsi_retry *r)
{
  double now = policy_now(r);
  r->limiter_enabled = 0;
  r->cubic_w_max = 0;
  r->cubic_k = cubic_zero_point(r);
  r->cubic_last_fail = now;
  r->bucket_tokens = 0;
  r->bucket_last = -1;
  r->bucket_rate = 0;
  r->bucket_max = 1;
  bucket_set_rate(r, 1);
  r->rate_measured = 0;
  r->rate_count = 0;
  r->rate_last_bucket = dfloor(now);
}

void kmsi_retry_init(kmsi_retry *r, kmsi_retry_mode mode, int max_attempts)
{
  memset(r, 0, sizeof *r);
  r->mode = mode;
  r->max_attempts = max_attempts >= 1 ? max_attempts : 1;
  r->backoff_scale = 1.0;
  r->quota = KMSI_QUOTA_INITIAL;
  r->rand_fn = real_rand;
  r->mono_fn = real_mono;
  r->sleep_fn = real_sleep;
  r->wall_fn = real_wall;
  limiter_reset(r);
}

void kmsi_retry_set_sources(kmsi_retry *r, kmsi_rand_fn rnd, void *rnd_ud,
                            kmsi_mono_fn mono, void *mono_ud,
                            kmsi_sleep_fn slp, void *slp_ud,
                            kmsi_wall_fn wall, void *wall_ud)
{
  if (rnd) {
    r->rand_fn = rnd;
    r->rand_ud = rnd_ud;
  }
  if (slp) {
    r->sleep_fn = slp;
    r->sleep_ud = slp_ud;
  }
  if (wall) {
    r->wall_fn = wall;
    r->wall_ud = wall_ud;
  }
  if (mono) {
    r->mono_fn = mono;
    r->mono_ud = mono_ud;
    limiter_reset(r); /* its timestamps came from the old clock */
  }
}

time_t kmsi_retry_now(const kmsi_retry *r)
{
  return r->wall_fn(r->wall_ud) + (time_t)r->skew;
}

double kmsi_retry_backoff(kmsi_retry *r, int attempt)
{
  double d = r->rand_fn(r->rand_ud);
  int i;
  for (i = 1; i < attempt && d < KMSI_BACKOFF_MAX; i++)
    d *= 2;
  return dmin(d, KMSI_BACKOFF_MAX) * r->backoff_scale;
}

int kmsi_retry_exhausted(const kmsi_retry *r, const kmsi_retry_call *call)
{
  return call->attempts - call->skew_retries >= r->max_attempts;
}

/* RetryQuota.release: never above the initial capacity. */
static void quota_release(kmsi_retry *r, int amount)
{
  r->quota += amount;
  if (r->quota > KMSI_QUOTA_INITIAL)
    r->quota = KMSI_QUOTA_INITIAL;
}

/* A clock-skew error worth correcting: the code says so (or may say so,
 * and the server's Date is more than KMSI_SKEW_THRESHOLD seconds from our
 * corrected clock). Sets *skew to the new offset. */
static int skew_detected(const kmsi_retry *r, const kms_error *err,
                         time_t server_date, long *skew)
{
  time_t local;
  long diff;
  int kind;

  if (err->status != KMS_ERR_SERVICE || server_date <= 0)
    return 0;
  kind = kmsi_is_clock_skew_code(err->aws_type);
  if (!kind)
    return 0;
  local = r->wall_fn(r->wall_ud);
  diff = (long)(server_date - (local + (time_t)r->skew));
  if (diff == 0 || (kind == 2 && labs(diff) <= KMSI_SKEW_THRESHOLD))
    return 0;
  *skew = (long)(server_date - local);
  return 1;
}

kmsi_retry_action kmsi_retry_after(kmsi_retry *r, kmsi_retry_call *call,
                                   const kms_error *err, time_t server_date,
                                   double *delay, const char **why)
{
  kmsi_failure f;
  long skew;
  int cost;

  *delay = 0;
  *why = "";
  if (r->mode == KMSI_RETRY_ADAPTIVE)
    limiter_update(r, err->status == KMS_ERR_SERVICE &&
                          kmsi_is_throttling_code(err->aws_type));
  if (err->status == KMS_OK) {
    /* after-call: give back what the last retry took, or 1. */
    quota_release(r, call->quota_held ? call->quota_held
                                      : KMSI_QUOTA_SUCCESS_REFUND);
    call->quota_held = 0;
    *why = "success";
    return KMSI_RETRY_STOP;
  }
  if (!call->skew_retries && skew_detected(r, err, server_date, &skew)) {
    r->skew = skew;
    call->skew_retries++;
    *why = "clock skew corrected";
    return KMSI_RETRY_SKEW;
  }
  f = kmsi_failure_of(err);
  if (kmsi_retry_exhausted(r, call)) {
    *why = "max attempts reached";
    return KMSI_RETRY_STOP;
  }
  if (f == KMSI_FAIL_NONE) {
    *why = "not retryable";
    return KMSI_RETRY_STOP;
  }
  cost = f == KMSI_FAIL_TIMEOUT ? KMSI_QUOTA_TIMEOUT_COST
                                : KMSI_QUOTA_RETRY_COST;
  if (cost > r->quota) {
    *why = "retry quota exhausted";
    return KMSI_RETRY_STOP;
  }
  r->quota -= cost;
  call->quota_held = cost;
  *delay = kmsi_retry_backoff(r, call->attempts - call->skew_retries);
  *why = f == KMSI_FAIL_THROTTLING ? "throttled"
         : f == KMSI_FAIL_TIMEOUT  ? "timeout"
                                   : "transient error";
  return KMSI_RETRY_AGAIN;
}
/* }===== */
