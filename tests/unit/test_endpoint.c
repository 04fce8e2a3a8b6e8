/* test_endpoint.c - kmsi_endpoint_resolve (endpoint.c) against botocore's
 * own EndpointRulesetResolver (endpoint_oracle.py, Debian's
 * /usr/bin/python3 with the shared KMS rule set and botocore's
 * partitions.json), over a table of regions times the four FIPS and
 * dual-stack combinations; plus fixed answers that need no Python. */
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "internal.h"
#include "testing.h"

extern char **environ;

/* Regions of every partition, the names in the partitions' region lists,
 * regions no partition's regex claims (aws is the fallback), odd cases
 * the regexes decide (us-gov-1 is aws's), and malformed hosts. */
static const char *const regions[] = {
  "us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1",
  "eu-central-2", "eu-north-1", "ap-southeast-3", "ap-northeast-1",
  "sa-east-1", "ca-central-1", "me-central-1", "af-south-1",
  "il-central-1", "mx-central-1", "cn-north-1", "cn-northwest-1",
  "us-gov-west-1", "us-gov-east-1", "us-iso-east-1", "us-iso-west-1",
  "us-isob-east-1", "eu-isoe-west-1", "us-isof-south-1", "aws-global",
  "aws-cn-global", "aws-us-gov-global", "aws-iso-global",
  "aws-iso-b-global", "local-weird", "US-EAST-1", "cn-north1",
  "us-gov-1", "us-iso-1", "us-east-1-fips", "us-east1-1", "a", "123abc",
  "x_y", "",
};
#define N_REGIONS (sizeof regions / sizeof regions[0])

/* What the AWS CLI printed (awscli-behaviour.md section 4), and the rule
 * set's errors: checked even without botocore. */
static const struct {
  const char *region;
  int fips, dual;
  const char *want;   /* URL, or "ERROR message" */
} fixed[] = {
  {"us-east-1", 0, 0, "https://kms.us-east-1.amazonaws.com"},
  {"cn-north-1", 0, 0, "https://kms.cn-north-1.amazonaws.com.cn"},
  {"us-gov-west-1", 0, 0, "https://kms.us-gov-west-1.amazonaws.com"},
  {"us-iso-east-1", 0, 0, "https://kms.us-iso-east-1.c2s.ic.gov"},
  {"us-isob-east-1", 0, 0, "https://kms.us-isob-east-1.sc2s.sgov.gov"},
  {"local-weird", 0, 0, "https://kms.local-weird.amazonaws.com"},
  {"US-EAST-1", 0, 0, "https://kms.US-EAST-1.amazonaws.com"},
  {"us-east-1", 1, 0, "https://kms-fips.us-east-1.amazonaws.com"},
  {"us-east-1", 0, 1, "https://kms.us-east-1.api.aws"},
  {"us-east-1", 1, 1, "https://kms-fips.us-east-1.api.aws"},
  {"cn-north-1", 0, 1, "https://kms.cn-north-1.api.amazonwebservices.com.cn"},
  {"us-gov-west-1", 1, 0, "https://kms-fips.us-gov-west-1.amazonaws.com"},
  {"us-iso-east-1", 1, 0, "https://kms-fips.us-iso-east-1.c2s.ic.gov"},
  {"us-iso-east-1", 0, 1,
   "ERROR DualStack is enabled but this partition does not support "
   "DualStack"},
  {"us-isob-east-1", 1, 1,
   "ERROR FIPS and DualStack are enabled, but this partition does not "
   "support one or both"},
  {"", 0, 0, "ERROR Invalid endpoint: https://kms..amazonaws.com"},
};

/* Our answer in the oracle's format. */
static void ours(const char *region, int fips, int dual, char *out,
                 size_t size)
{
  kms_buf b;
  kms_error e;
  kms_error_clear(&e);
  if (kmsi_endpoint_resolve(region, fips, dual, &b, &e) == KMS_OK)
    snprintf(out, size, "URL %s", b.data);
  else
    snprintf(out, size, "ERROR %s", e.message);
  kms_buf_free(&b);
}

static void test_fixed(void)
{
  size_t i;
  char got[600], want[600];
  kms_buf b;
  kms_error e;

  for (i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
    ours(fixed[i].region, fixed[i].fips, fixed[i].dual, got, sizeof got);
    if (strncmp(fixed[i].want, "ERROR ", 6) == 0)
      snprintf(want, sizeof want, "%s", fixed[i].want);
    else
      snprintf(want, sizeof want, "URL %s", fixed[i].want);
    EQ_STR(got, want, "fixed: '%s' fips=%d dualstack=%d", fixed[i].region,
           fixed[i].fips, fixed[i].dual);
  }
  kms_error_clear(&e);
  OK(kmsi_endpoint_resolve(NULL, 0, 0, &b, &e) == KMS_ERR_NO_REGION,
     "no region: KMS_ERR_NO_REGION");
  EQ_STR(e.message, "You must specify a region. You can also configure "
         "your region by running \"aws configure\".",
         "with the AWS CLI's message");
  kms_error_clear(&e);
  kmsi_endpoint_resolve("us-iso-east-1", 0, 1, &b, &e);
  OK(e.status == KMS_ERR_CONFIG && b.data == NULL,
     "a rule-set error is KMS_ERR_CONFIG with no URL");

  /* STS (for assume-role and web identity). */
  kmsi_sts_endpoint("eu-west-1", 0, 0, &b, NULL);
  EQ_STR(b.data, "https://sts.eu-west-1.amazonaws.com", "regional STS");
  kms_buf_free(&b);
  kmsi_sts_endpoint("cn-north-1", 0, 0, &b, NULL);
  EQ_STR(b.data, "https://sts.cn-north-1.amazonaws.com.cn", "STS in China");
  kms_buf_free(&b);
  kmsi_sts_endpoint("us-gov-west-1", 1, 0, &b, NULL);
  EQ_STR(b.data, "https://sts.us-gov-west-1.amazonaws.com",
         "STS FIPS in GovCloud is the plain host");
  kms_buf_free(&b);
  kmsi_sts_endpoint("us-east-1", 1, 0, &b, NULL);
  EQ_STR(b.data, "https://sts-fips.us-east-1.amazonaws.com", "STS FIPS");
  kms_buf_free(&b);
  kmsi_sts_endpoint(NULL, 0, 0, &b, NULL);
  EQ_STR(b.data, "https://sts.amazonaws.com", "no region: global STS");
  kms_buf_free(&b);
  EQ_STR(kmsi_partition_name("us-gov-1"), "aws",
         "partition: us-gov-1 is aws's by its regex");
  EQ_STR(kmsi_partition_name("aws-iso-b-global"), "aws-iso-b",
         "partition: by the regions list");
}

/* Runs the oracle over every region and flag combination; fills out with
 * its stdout. Returns its exit status (77: botocore missing), or -1. */
static int run_oracle(char *out, size_t size)
{
  const char *py = getenv("KMS_PYTHON");
  const char *root = getenv("KMS_SOURCE_ROOT");
  const char *shared = getenv("KMS_SHARED");
  char script[512], ruleset[512], flags[4][2][2];
  char *argv[4 + 3 * 4 * N_REGIONS + 1];
  size_t i, k, n = 0, len = 0;
  int p[2], status = 0;
  pid_t pid;
  posix_spawn_file_actions_t fa;
  ssize_t r;

  if (!py)
    py = "/usr/bin/python3";
  snprintf(script, sizeof script, "%s/tests/unit/endpoint_oracle.py",
           root ? root : ".");
  snprintf(ruleset, sizeof ruleset, "%s/reference/kms-endpoint-rule-set.json",
           shared ? shared : "../shared");
  if (access(py, X_OK) != 0 || access(script, R_OK) != 0 ||
      access(ruleset, R_OK) != 0)
    return -1;
  argv[n++] = (char *)py;
  argv[n++] = script;
  argv[n++] = ruleset;
  for (k = 0; k < 4; k++) {
    snprintf(flags[k][0], 2, "%d", (int)(k & 1));
    snprintf(flags[k][1], 2, "%d", (int)(k >> 1));
  }
  for (i = 0; i < N_REGIONS; i++)
    for (k = 0; k < 4; k++) {
      argv[n++] = (char *)regions[i];
      argv[n++] = flags[k][0];
      argv[n++] = flags[k][1];
    }
  argv[n] = NULL;
  if (pipe(p) != 0)
    return -1;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, p[1], 1);
  posix_spawn_file_actions_addclose(&fa, p[0]);
  if (posix_spawn(&pid, py, &fa, NULL, argv, environ) != 0) {
    posix_spawn_file_actions_destroy(&fa);
    close(p[0]);
    close(p[1]);
    return -1;
  }
  posix_spawn_file_actions_destroy(&fa);
  close(p[1]);
  while (len + 1 < size && (r = read(p[0], out + len, size - len - 1)) > 0)
    len += (size_t)r;
  out[len] = '\0';
  close(p[0]);
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_oracle(void)
{
  static char out[64 * 1024];
  char got[600];
  char *line, *save = NULL;
  size_t i, k, cases = 0;
  int rc = run_oracle(out, sizeof out);

  if (rc != 0) {
    printf("# skip: botocore's resolver is not available (status %d); "
           "install python3-botocore\n", rc);
    return;
  }
  line = strtok_r(out, "\n", &save);
  for (i = 0; i < N_REGIONS; i++)
    for (k = 0; k < 4; k++) {
      int fips = (int)(k & 1), dual = (int)(k >> 1);
      ours(regions[i], fips, dual, got, sizeof got);
      EQ_STR(got, line ? line : "(no answer)",
             "botocore: '%s' fips=%d dualstack=%d -> %s", regions[i], fips,
             dual, got);
      cases++;
      line = strtok_r(NULL, "\n", &save);
    }
  OK(cases >= 100, "%zu cases compared with botocore", cases);
}

int main(void)
{
  (void)t_alloc;  /* the resolver allocates with malloc only */
  test_fixed();
  test_oracle();
  return t_done();
}
