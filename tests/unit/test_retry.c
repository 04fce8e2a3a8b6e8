/* test_retry.c - the standard and adaptive retry policies with injected
 * random, clock and sleep sources: attempt limits, backoff, the retry
 * quota, the adaptive rate limiter against numbers computed with
 * botocore's own classes, and the clock-skew correction. Runs instantly. */
#include <string.h>
#include "send.h"
#include "testing.h"

/* {===== fake sources ===== */

typedef struct fake {
  double rnd;       /* what rand returns */
  double mono;      /* the monotonic clock */
  double slept;     /* total requested sleep */
  int sleeps;
  time_t wall;
} fake;

static double f_rand(void *ud)
{
  return ((fake *)ud)->rnd;
}

static double f_mono(void *ud)
{
  return ((fake *)ud)->mono;
}

static void f_sleep(void *ud, double s)
{
  fake *f = ud;
  f->mono += s;
  f->slept += s;
  f->sleeps++;
}

static time_t f_wall(void *ud)
{
  return ((fake *)ud)->wall;
}

static void setup(kmsi_retry *r, fake *f, kmsi_retry_mode mode, int max)
{
  memset(f, 0, sizeof *f);
  f->rnd = 0.5;
  f->wall = 1700000000;
  kmsi_retry_init(r, mode, max);
  kmsi_retry_set_sources(r, f_rand, f, f_mono, f, f_sleep, f, f_wall, f);
}

static kms_error service(long status, const char *type)
{
  kms_error e;
  kms_error_clear(&e);
  e.status = KMS_ERR_SERVICE;
  e.http_status = status;
  kmsi_strlcpy(e.aws_type, type, sizeof e.aws_type);
  return e;
}

static kms_error transport(kms_status s)
{
  kms_error e;
  kms_error_clear(&e);
  e.status = s;
  return e;
}

static kms_error success(void)
{
  kms_error e;
  kms_error_clear(&e);
  e.http_status = 200;
  return e;
}

/* One attempt of a call: counts it, then asks the policy. */
static kmsi_retry_action step(kmsi_retry *r, kmsi_retry_call *c,
                              kms_error e, time_t date, double *delay)
{
  const char *why;
  c->attempts++;
  return kmsi_retry_after(r, c, &e, date, delay, &why);
}
/* }===== */

static void test_backoff(void)
{
  kmsi_retry r;
  fake f;

  setup(&r, &f, KMSI_RETRY_STANDARD, 3);
  f.rnd = 0.75;
  OK(kmsi_retry_backoff(&r, 1) == 0.75, "backoff 1: rand * 1");
  OK(kmsi_retry_backoff(&r, 2) == 1.5, "backoff 2: rand * 2");
  OK(kmsi_retry_backoff(&r, 4) == 6.0, "backoff 4: rand * 8");
  OK(kmsi_retry_backoff(&r, 6) == 20.0, "backoff 6: capped at 20");
  OK(kmsi_retry_backoff(&r, 1000) == 20.0, "backoff 1000: capped");
  f.rnd = 0;
  OK(kmsi_retry_backoff(&r, 3) == 0, "rand 0: no delay");
  f.rnd = 0.75;
  r.backoff_scale = 0.01;
  OK(kmsi_retry_backoff(&r, 2) == 0.015, "test scale applies");
  OK(kmsi_retry_backoff(&r, 9) == 0.2, "test scale applies to the cap");
  {
    /* The real source stays within [0, 1). */
    kmsi_retry real;
    int i, ok = 1;
    kmsi_retry_init(&real, KMSI_RETRY_STANDARD, 3);
    for (i = 0; i < 1000; i++) {
      double d = kmsi_retry_backoff(&real, 1);
      if (d < 0 || d >= 1)
        ok = 0;
    }
    OK(ok, "real random in [0, 1)");
  }
}

static void test_standard(void)
{
  kmsi_retry r;
  kmsi_retry_call c;
  fake f;
  double d;
  const char *why;
  kms_error e;

  /* 503 three times: two retries, then max attempts. */
  setup(&r, &f, KMSI_RETRY_STANDARD, 3);
  memset(&c, 0, sizeof c);
  OK(step(&r, &c, service(503, "503"), 0, &d) == KMSI_RETRY_AGAIN && d == 0.5,
     "503 #1: again after rand*1");
  OK(step(&r, &c, service(503, "503"), 0, &d) == KMSI_RETRY_AGAIN && d == 1.0,
     "503 #2: again after rand*2");
  OK(!kmsi_retry_exhausted(&r, &c), "not exhausted before the 3rd");
  c.attempts++;
  e = service(503, "503");
  OK(kmsi_retry_after(&r, &c, &e, 0, &d, &why) == KMSI_RETRY_STOP,
     "503 #3: stop");
  EQ_STR(why, "max attempts reached", "why: max attempts");
  OK(kmsi_retry_exhausted(&r, &c), "exhausted after 3");
  OK(r.quota == 490, "two retries cost 10 tokens (%d)", r.quota);

  /* A success after a retry gives back what the retry took. */
  memset(&c, 0, sizeof c);
  OK(step(&r, &c, service(400, "ThrottlingException"), 0, &d) ==
         KMSI_RETRY_AGAIN, "throttling: again");
  OK(r.quota == 485, "retry took 5");
  OK(step(&r, &c, success(), 0, &d) == KMSI_RETRY_STOP, "success: stop");
  OK(r.quota == 490, "success refunds the 5");
  /* A first-try success refunds 1, never above 500. */
  memset(&c, 0, sizeof c);
  step(&r, &c, success(), 0, &d);
  OK(r.quota == 491, "first-try success refunds 1");
  r.quota = KMSI_QUOTA_INITIAL;
  memset(&c, 0, sizeof c);
  step(&r, &c, success(), 0, &d);
  OK(r.quota == KMSI_QUOTA_INITIAL, "quota capped at 500");

  /* Timeouts cost 10. */
  memset(&c, 0, sizeof c);
  OK(step(&r, &c, transport(KMS_ERR_READ_TIMEOUT), 0, &d) ==
         KMSI_RETRY_AGAIN && r.quota == 490, "read timeout costs 10");
  OK(step(&r, &c, transport(KMS_ERR_CONNECT_TIMEOUT), 0, &d) ==
         KMSI_RETRY_AGAIN && r.quota == 480, "connect timeout costs 10");
  OK(step(&r, &c, transport(KMS_ERR_CONNECT), 0, &d) == KMSI_RETRY_STOP,
     "third attempt stops");
  OK(r.quota == 480, "no refund on failure");

  /* Transport failures are retried. */
  {
    static const kms_status ts[] = {KMS_ERR_CONNECT, KMS_ERR_CONNECTION_CLOSED,
                                    KMS_ERR_TLS};
    size_t i;
    for (i = 0; i < 3; i++) {
      memset(&c, 0, sizeof c);
      OK(step(&r, &c, transport(ts[i]), 0, &d) == KMSI_RETRY_AGAIN,
         "%s retried", kms_strerror(ts[i]));
    }
  }

  /* Not retried: 4xx, 429 with an unknown code, 501, local errors. */
  setup(&r, &f, KMSI_RETRY_STANDARD, 3);
  memset(&c, 0, sizeof c);
  c.attempts = 1;
  e = service(400, "CustomKeyStoreInvalidStateException");
  OK(kmsi_retry_after(&r, &c, &e, 0, &d, &why) == KMSI_RETRY_STOP,
     "400 modeled: stop");
  EQ_STR(why, "not retryable", "why: not retryable");
  OK(!kmsi_retry_exhausted(&r, &c), "no max-retries suffix at attempt 1/3");
  memset(&c, 0, sizeof c);
  OK(step(&r, &c, service(429, "Foo"), 0, &d) == KMSI_RETRY_STOP,
     "429 Foo: stop");
  memset(&c, 0, sizeof c);
  OK(step(&r, &c, service(501, "501"), 0, &d) == KMSI_RETRY_STOP,
     "501: stop");
  memset(&c, 0, sizeof c);
  OK(step(&r, &c, transport(KMS_ERR_RESPONSE), 0, &d) == KMSI_RETRY_STOP,
     "bad success body: stop");
  OK(r.quota == KMSI_QUOTA_INITIAL, "nothing taken");

  /* 503, 503, then a 400: botocore's suffix comes with the last attempt. */
  memset(&c, 0, sizeof c);
  step(&r, &c, service(503, "503"), 0, &d);
  step(&r, &c, service(503, "503"), 0, &d);
  OK(step(&r, &c, service(400, "AccessDeniedException"), 0, &d) ==
         KMSI_RETRY_STOP && kmsi_retry_exhausted(&r, &c),
     "503,503,400: exhausted (reached max retries: 2)");

  /* max_attempts 1: no retry, and exhausted at once. */
  setup(&r, &f, KMSI_RETRY_STANDARD, 1);
  memset(&c, 0, sizeof c);
  OK(step(&r, &c, service(503, "503"), 0, &d) == KMSI_RETRY_STOP &&
         kmsi_retry_exhausted(&r, &c), "max 1: stop, exhausted");
  memset(&c, 0, sizeof c);
  OK(step(&r, &c, service(400, "X"), 0, &d) == KMSI_RETRY_STOP &&
         kmsi_retry_exhausted(&r, &c), "max 1 with a 400: exhausted too");

  /* max_attempts 5: exactly 5. */
  setup(&r, &f, KMSI_RETRY_STANDARD, 5);
  memset(&c, 0, sizeof c);
  while (step(&r, &c, service(500, "500"), 0, &d) == KMSI_RETRY_AGAIN)
    ;
  OK(c.attempts == 5, "max 5: 5 attempts (%d)", c.attempts);
  kmsi_retry_init(&r, KMSI_RETRY_STANDARD, 0);
  OK(r.max_attempts == 1, "max_attempts below 1 reads as 1");

  /* The quota runs out: 500 tokens / 5 = 100 retries. */
  setup(&r, &f, KMSI_RETRY_STANDARD, 1000);
  memset(&c, 0, sizeof c);
  while (step(&r, &c, service(503, "503"), 0, &d) == KMSI_RETRY_AGAIN)
    ;
  OK(c.attempts == 101 && r.quota == 0, "quota: 100 retries then stop (%d)",
     c.attempts);
  e = service(503, "503");
  c.attempts++;
  kmsi_retry_after(&r, &c, &e, 0, &d, &why);
  EQ_STR(why, "retry quota exhausted", "why: quota");
  OK(!kmsi_retry_exhausted(&r, &c), "quota stop is not max attempts");
  OK(kmsi_retry_before_send(&r) == 0, "standard mode never waits to send");
}

static void test_skew(void)
{
  kmsi_retry r;
  kmsi_retry_call c;
  fake f;
  double d;
  time_t server;

  setup(&r, &f, KMSI_RETRY_STANDARD, 3);
  server = f.wall + 900;
  memset(&c, 0, sizeof c);
  OK(step(&r, &c, service(400, "RequestTimeTooSkewed"), server, &d) ==
         KMSI_RETRY_SKEW && d == 0, "RequestTimeTooSkewed: resend at once");
  OK(r.skew == 900 && kmsi_retry_now(&r) == server, "clock corrected");
  OK(r.quota == KMSI_QUOTA_INITIAL, "skew retry costs no quota");
  OK(step(&r, &c, service(400, "RequestTimeTooSkewed"), server + 900, &d) ==
         KMSI_RETRY_STOP, "only once per call");
  /* The correction persists: a later call signs with it. */
  OK(kmsi_retry_now(&r) == f.wall + 900, "the offset stays");

  /* A possible skew code needs a Date far from our corrected clock. */
  setup(&r, &f, KMSI_RETRY_STANDARD, 3);
  memset(&c, 0, sizeof c);
  OK(step(&r, &c, service(400, "InvalidSignatureException"), f.wall + 100,
          &d) == KMSI_RETRY_STOP, "InvalidSignature, 100 s off: no");
  memset(&c, 0, sizeof c);
  OK(step(&r, &c, service(400, "InvalidSignatureException"), f.wall - 400,
          &d) == KMSI_RETRY_SKEW && r.skew == -400,
     "InvalidSignature, 400 s behind: corrected");
  memset(&c, 0, sizeof c);
  OK(step(&r, &c, service(400, "InvalidSignatureException"), f.wall - 400,
          &d) == KMSI_RETRY_STOP, "already corrected: a real bad signature");
  memset(&c, 0, sizeof c);
  OK(step(&r, &c, service(400, "RequestExpired"), 0, &d) == KMSI_RETRY_STOP,
     "no Date header: nothing to correct with");
  memset(&c, 0, sizeof c);
  OK(step(&r, &c, service(400, "AccessDeniedException"), f.wall + 9999,
          &d) == KMSI_RETRY_STOP, "other codes: no correction");

  /* The skew retry does not count toward max_attempts. */
  setup(&r, &f, KMSI_RETRY_STANDARD, 1);
  memset(&c, 0, sizeof c);
  OK(step(&r, &c, service(403, "RequestExpired"), f.wall + 600, &d) ==
         KMSI_RETRY_SKEW, "max 1: skew retry still happens");
  OK(!kmsi_retry_exhausted(&r, &c), "not exhausted by the skew retry");
  OK(step(&r, &c, success(), 0, &d) == KMSI_RETRY_STOP && c.attempts == 2,
     "then success on the 2nd attempt");
}

/* Expected values from botocore's ClientRateLimiter, CubicCalculator,
 * TokenBucket and RateClocker driven by a fake clock (its Condition.wait
 * advancing the clock by max(wait, 1e-9)): per event, the time slept
 * before sending, then the bucket's rate and tokens after the response. */
typedef struct adaptive_event {
  double advance;
  int throttled;
  double slept, rate, tokens;
} adaptive_event;

static int near(double got, double want)
{
  return got > want - 1e-6 && got < want + 1e-6;
}

/* Feeds e's response to r, then compares the wait before it (slept) and
 * the bucket after it with botocore's figures. */
static void adaptive_check(kmsi_retry *r, const adaptive_event *e,
                           double slept, const char *what, size_t i)
{
  kmsi_retry_call c;
  double d;

  memset(&c, 0, sizeof c);
  step(r, &c, e->throttled ? service(400, "ThrottlingException") : success(),
       0, &d);
  OK(near(slept, e->slept) && near(r->bucket_rate, e->rate) &&
         near(r->bucket_tokens, e->tokens),
     "%s event %zu: waits %.6f rate %.6f tokens %.6f", what, i, slept,
     r->bucket_rate, r->bucket_tokens);
}

static void test_adaptive(void)
{
  static const adaptive_event ev[] = {
    {0.1, 0, 0.000000000000, 0.500000000000, 0.100000000000},
    {0.05, 1, 0.000000000000, 0.500000000000, 0.125000000000},
    {0.2, 1, 1.750000000000, 0.500000000000, 0.100000000000},
    {0.3, 0, 1.800000000000, 1.280000000000, 0.150000000000},
    {0.05, 1, 0.664062500000, 0.896000000000, 0.064000000000},
    {1.0, 0, 1.044642857143, 1.491200000000, 0.896000000000},
    {0.01, 0, 0.069742489270, 1.869349439984, 0.014912000000},
    {0.4, 1, 0.526968356370, 1.308544607989, 0.747739777863},
    {0.3, 0, 0.192779230144, 1.771014099128, 0.392563382397},
  };
  kmsi_retry r;
  kmsi_retry_call c;
  fake f;
  double d, slept;
  size_t i;

  setup(&r, &f, KMSI_RETRY_ADAPTIVE, 3);
  for (i = 0; i < sizeof ev / sizeof ev[0]; i++) {
    slept = kmsi_retry_before_send(&r);
    f.mono += ev[i].advance;
    adaptive_check(&r, &ev[i], slept, "adaptive", i);
  }

  /* The test scale shrinks the limiter's real sleeps consistently. */
  setup(&r, &f, KMSI_RETRY_ADAPTIVE, 3);
  r.backoff_scale = 0.01;
  kmsi_retry_set_sources(&r, NULL, NULL, f_mono, &f, NULL, NULL, NULL, NULL);
  for (i = 0; i < 4; i++) {
    slept = kmsi_retry_before_send(&r);
    f.mono += ev[i].advance * 0.01;
    memset(&c, 0, sizeof c);
    step(&r, &c, ev[i].throttled ? service(400, "ThrottlingException")
                                 : success(), 0, &d);
    OK(slept > ev[i].slept * 0.01 - 1e-8 && slept < ev[i].slept * 0.01 + 1e-8,
       "scaled adaptive event %zu: slept %.6f", i, slept);
  }
  OK(r.quota <= KMSI_QUOTA_INITIAL, "adaptive keeps the standard quota");

  /* A host that must not block: kmsi_retry_acquire never sleeps, takes
   * the token at once and returns the wait; the host sleeps it itself.
   * The same events give the same waits and the same bucket. */
  setup(&r, &f, KMSI_RETRY_ADAPTIVE, 3);
  for (i = 0; i < sizeof ev / sizeof ev[0]; i++) {
    int sleeps = f.sleeps;
    slept = kmsi_retry_acquire(&r);
    OK(f.sleeps == sleeps, "acquire %zu does not sleep", i);
    f.mono += slept + ev[i].advance;
    adaptive_check(&r, &ev[i], slept, "non-blocking", i);
  }
  /* Two sends at once (two light threads on one client): the second
   * queues up behind the first's debt. */
  d = kmsi_retry_acquire(&r);
  slept = kmsi_retry_acquire(&r);
  OK(slept > d && slept - d > 1 / r.bucket_rate - 1e-6 &&
         slept - d < 1 / r.bucket_rate + 1e-6,
     "the second concurrent acquire waits one token longer (%.6f, %.6f)",
     d, slept);
  setup(&r, &f, KMSI_RETRY_STANDARD, 3);
  OK(kmsi_retry_acquire(&r) == 0, "standard mode: acquire never waits");
}

int main(void)
{
  (void)t_alloc; /* the policy allocates nothing */
  test_backoff();
  test_standard();
  test_skew();
  test_adaptive();
  return t_done();
}
