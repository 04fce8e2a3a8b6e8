/* test_config.c - kms_config (config.c), settings resolution in the AWS
 * order (settings.c) and the shared config/credentials files through
 * libinih (profile.c). Every run sets its own environment and HOME: the
 * machine's are never read. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "internal.h"
#include "testing.h"

static char dir[128];
static char cfg_path[256], cred_path[256];
static t_alloc_state st;

/* Every AWS variable the code reads, cleared before each case. */
static const char *const aws_vars[] = {
  "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
  "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_ENDPOINT_URL",
  "AWS_ENDPOINT_URL_KMS", "AWS_ENDPOINT_URL_STS",
  "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "AWS_RETRY_MODE",
  "AWS_MAX_ATTEMPTS", "AWS_CA_BUNDLE", "AWS_USE_FIPS_ENDPOINT",
  "AWS_USE_DUALSTACK_ENDPOINT", "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", NULL};

static void reset_env(void)
{
  size_t i;
  for (i = 0; aws_vars[i]; i++)
    unsetenv(aws_vars[i]);
  setenv("HOME", dir, 1);
  setenv("AWS_CONFIG_FILE", cfg_path, 1);
  setenv("AWS_SHARED_CREDENTIALS_FILE", cred_path, 1);
}

static void write_file(const char *path, const char *text)
{
  FILE *f = fopen(path, "wb");
  if (!f) {
    perror(path);
    exit(1);
  }
  fputs(text, f);
  fclose(f);
}

static void files(const char *config, const char *credentials)
{
  unlink(cfg_path);
  unlink(cred_path);
  if (config)
    write_file(cfg_path, config);
  if (credentials)
    write_file(cred_path, credentials);
}

static kms_config *cfg_new(void)
{
  kms_config *cfg = kms_config_new(t_alloc, &st, NULL);
  if (!cfg) {
    printf("Bail out! kms_config_new\n");
    exit(1);
  }
  return cfg;
}

/* Resolves with cfg (NULL: an empty config) into s; returns the status
 * and leaves the message in e. */
static kms_status resolve(kms_config *cfg, kmsi_settings *s, kms_error *e)
{
  kms_error_clear(e);
  return kmsi_settings_resolve(cfg, s, e);
}

static void done_settings(kms_config *cfg, kmsi_settings *s)
{
  kmsi_settings_free(s, kmsi_config_allocator(cfg));
  kms_config_free(cfg);
}

/* Resolves with only the environment and files, expecting an error. */
static void expect_error(const char *name, kms_status status,
                         const char *message)
{
  kms_config *cfg = cfg_new();
  kmsi_settings s;
  kms_error e;
  kms_status r = resolve(cfg, &s, &e);
  OK(r == status, "%s: status %s (got %s)", name, kms_strerror(status),
     kms_strerror(r));
  EQ_STR(e.message, message, "%s: message", name);
  if (r == KMS_OK)
    kmsi_settings_free(&s, kmsi_config_allocator(cfg));
  kms_config_free(cfg);
}

/* {===== kms_config ===== */

static void test_config_object(void)
{
  kms_config *cfg = cfg_new();
  kms_error e;
  static const char *const names[] = {
    "region", "profile", "endpoint_url", "access_key_id",
    "secret_access_key", "session_token", "retry_mode", "max_attempts",
    "connect_timeout", "read_timeout", "ca_bundle", "verify_tls",
    "use_fips_endpoint", "use_dualstack_endpoint", "no_sign_request",
    "user_agent", "config_file", "credentials_file", NULL};
  size_t i;
  int all = 1;

  for (i = 0; names[i]; i++)
    all &= kms_config_set(cfg, names[i], "v", NULL) == KMS_OK &&
           strcmp(kmsi_config_get(cfg, names[i]), "v") == 0;
  OK(all, "every documented setting name is accepted");
  kms_error_clear(&e);
  OK(kms_config_set(cfg, "regoin", "x", &e) == KMS_ERR_CONFIG,
     "an unknown name is KMS_ERR_CONFIG");
  EQ_STR(e.message, "config: unknown setting \"regoin\"",
         "the message names the unknown setting");
  OK(kms_config_set(cfg, "Region", "x", NULL) == KMS_ERR_CONFIG,
     "names are case-sensitive");
  OK(kms_config_set(cfg, "region", "eu-west-1", NULL) == KMS_OK &&
         strcmp(kmsi_config_get(cfg, "region"), "eu-west-1") == 0,
     "a value is replaced");
  OK(kms_config_set(cfg, "region", NULL, NULL) == KMS_OK &&
         kmsi_config_get(cfg, "region") == NULL,
     "NULL unsets");
  OK(kms_config_set(cfg, "region", "", NULL) == KMS_OK &&
         strcmp(kmsi_config_get(cfg, "region"), "") == 0,
     "the empty string is a value");
  OK(kms_config_set(NULL, "region", "x", NULL) == KMS_ERR_INVALID_ARG,
     "NULL config is misuse");
  OK(kmsi_config_get(NULL, "region") == NULL, "a NULL config is empty");
  kms_config_free(cfg);
  kms_config_free(NULL);
  OK(st.blocks == 0 && st.bytes == 0, "no leak (blocks %ld, bytes %ld)",
     st.blocks, st.bytes);
}

static void test_config_nomem(void)
{
  long n;
  int ok = 1;
  for (n = 1; n < 10; n++) {
    kms_config *cfg;
    kms_error e;
    st.calls = 0;
    st.fail_at = n;
    kms_error_clear(&e);
    cfg = kms_config_new(t_alloc, &st, &e);
    if (!cfg) {
      ok &= e.status == KMS_ERR_NOMEM;
      continue;
    }
    if (kms_config_set(cfg, "secret_access_key", "s3cr3t", &e) != KMS_OK)
      ok &= e.status == KMS_ERR_NOMEM &&
            kmsi_config_get(cfg, "secret_access_key") == NULL;
    kms_config_free(cfg);
  }
  st.fail_at = 0;
  OK(ok && st.blocks == 0, "allocation failures are reported, no leak");
}
/* }===== */

/* {===== settings ===== */

static void test_defaults(void)
{
  kms_config *cfg;
  kmsi_settings s;
  kms_error e;
  char want[300];

  reset_env();
  unsetenv("AWS_CONFIG_FILE");
  unsetenv("AWS_SHARED_CREDENTIALS_FILE");
  files(NULL, NULL);
  cfg = cfg_new();
  OK(resolve(cfg, &s, &e) == KMS_OK, "defaults resolve: %s", e.message);
  OK(s.region == NULL, "no region anywhere: NULL");
  EQ_STR(s.profile, "default", "the default profile");
  OK(!s.profile_explicit, "not explicit");
  OK(s.endpoint_url == NULL && s.sts_endpoint_url == NULL,
     "no endpoint override");
  OK(s.max_attempts == 3 && s.retry_mode == KMSI_RETRY_STANDARD,
     "standard mode, 3 attempts");
  OK(s.connect_timeout_ms == 60000 && s.read_timeout_ms == 60000,
     "timeouts 60 s");
  OK(s.verify_tls == 1 && !s.use_fips && !s.use_dualstack &&
         !s.no_sign_request,
     "TLS verified, no FIPS, no dual-stack, signed");
  snprintf(want, sizeof want, "%s/.aws/config", dir);
  EQ_STR(s.config_file, want, "~/.aws/config under HOME");
  snprintf(want, sizeof want, "%s/.aws/credentials", dir);
  EQ_STR(s.credentials_file, want, "~/.aws/credentials under HOME");
  done_settings(cfg, &s);

  cfg = cfg_new();
  kms_config_set(cfg, "config_file", "~/c", NULL);
  setenv("AWS_SHARED_CREDENTIALS_FILE", "/x/creds", 1);
  OK(resolve(cfg, &s, &e) == KMS_OK, "files resolve");
  snprintf(want, sizeof want, "%s/c", dir);
  EQ_STR(s.config_file, want, "explicit config_file, ~ expanded");
  EQ_STR(s.credentials_file, "/x/creds", "AWS_SHARED_CREDENTIALS_FILE");
  done_settings(cfg, &s);
}

static void test_region(void)
{
  kms_config *cfg;
  kmsi_settings s;
  kms_error e;

  reset_env();
  files("[default]\nregion = eu-west-3\n[profile other]\nregion=ap-south-1\n",
        NULL);
  cfg = cfg_new();
  resolve(cfg, &s, &e);
  EQ_STR(s.region, "eu-west-3", "region from the default profile");
  done_settings(cfg, &s);

  setenv("AWS_DEFAULT_REGION", "us-west-1", 1);
  cfg = cfg_new();
  resolve(cfg, &s, &e);
  EQ_STR(s.region, "us-west-1", "AWS_DEFAULT_REGION beats the profile");
  done_settings(cfg, &s);

  setenv("AWS_REGION", "us-west-2", 1);
  cfg = cfg_new();
  resolve(cfg, &s, &e);
  EQ_STR(s.region, "us-west-2", "AWS_REGION beats AWS_DEFAULT_REGION");
  done_settings(cfg, &s);

  cfg = cfg_new();
  kms_config_set(cfg, "region", "ca-central-1", NULL);
  resolve(cfg, &s, &e);
  EQ_STR(s.region, "ca-central-1", "explicit region beats AWS_REGION");
  done_settings(cfg, &s);

  setenv("AWS_REGION", "", 1);
  unsetenv("AWS_DEFAULT_REGION");
  setenv("AWS_PROFILE", "other", 1);
  cfg = cfg_new();
  resolve(cfg, &s, &e);
  EQ_STR(s.region, "ap-south-1", "an empty AWS_REGION counts as unset");
  done_settings(cfg, &s);

  reset_env();
  files(NULL, NULL);
  setenv("AWS_REGION", "US-EAST-1", 1);
  cfg = cfg_new();
  resolve(cfg, &s, &e);
  EQ_STR(s.region, "US-EAST-1", "the region is kept as written");
  done_settings(cfg, &s);

  setenv("AWS_REGION", "bad_region!", 1);
  expect_error("bad region", KMS_ERR_CONFIG,
               "Provided region_name 'bad_region!' doesn't match a "
               "supported format.");
  setenv("AWS_REGION", "12345", 1);
  expect_error("all-digit region", KMS_ERR_CONFIG,
               "Provided region_name '12345' doesn't match a supported "
               "format.");
  setenv("AWS_REGION", "-us-east-1", 1);
  expect_error("leading dash", KMS_ERR_CONFIG,
               "Provided region_name '-us-east-1' doesn't match a "
               "supported format.");
  setenv("AWS_REGION", "a123456789012345678901234567890123456789012345678901"
                       "234567890123", 1);
  expect_error("64 characters", KMS_ERR_CONFIG,
               "Provided region_name 'a12345678901234567890123456789012345"
               "6789012345678901234567890123' doesn't match a supported "
               "format.");
  unsetenv("AWS_REGION");
  cfg = cfg_new();
  kms_config_set(cfg, "region", "", NULL);
  OK(resolve(cfg, &s, &e) == KMS_OK && s.region && !*s.region,
     "an explicit empty region passes (the endpoint fails later)");
  done_settings(cfg, &s);
}

static void test_profile(void)
{
  kms_config *cfg;
  kmsi_settings s;
  kms_error e;

  reset_env();
  files("[profile a]\nregion = eu-west-1\n[profile b]\nregion = eu-west-2\n",
        "[c]\naws_access_key_id = AKIDC\n");
  setenv("AWS_DEFAULT_PROFILE", "a", 1);
  cfg = cfg_new();
  resolve(cfg, &s, &e);
  EQ_STR(s.profile, "a", "AWS_DEFAULT_PROFILE");
  EQ_STR(s.region, "eu-west-1", "its region");
  done_settings(cfg, &s);

  setenv("AWS_PROFILE", "b", 1);
  cfg = cfg_new();
  resolve(cfg, &s, &e);
  EQ_STR(s.profile, "b", "AWS_PROFILE beats AWS_DEFAULT_PROFILE");
  OK(!s.profile_explicit, "a profile from the environment is not explicit");
  done_settings(cfg, &s);

  cfg = cfg_new();
  kms_config_set(cfg, "profile", "c", NULL);
  OK(resolve(cfg, &s, &e) == KMS_OK, "a profile only in the credentials "
     "file exists");
  EQ_STR(s.profile, "c", "explicit profile beats AWS_PROFILE");
  OK(s.profile_explicit, "and is marked explicit");
  OK(s.region == NULL, "no region in it");
  done_settings(cfg, &s);

  setenv("AWS_PROFILE", "nosuch", 1);
  expect_error("AWS_PROFILE=nosuch", KMS_ERR_CONFIG,
               "The config profile (nosuch) could not be found");
  unsetenv("AWS_PROFILE");
  unsetenv("AWS_DEFAULT_PROFILE");
  cfg = cfg_new();
  kms_config_set(cfg, "profile", "nosuch", NULL);
  OK(resolve(cfg, &s, &e) == KMS_ERR_CONFIG, "--profile nosuch fails");
  EQ_STR(e.message, "The config profile (nosuch) could not be found",
         "with the AWS CLI's message");
  kms_config_free(cfg);

  files(NULL, NULL);
  setenv("AWS_PROFILE", "default", 1);
  cfg = cfg_new();
  OK(resolve(cfg, &s, &e) == KMS_OK,
     "a missing default profile is not an error");
  done_settings(cfg, &s);
}

static void test_endpoint_settings(void)
{
  kms_config *cfg;
  kmsi_settings s;
  kms_error e;

  reset_env();
  files("[default]\n"
        "endpoint_url = http://profile.example\n"
        "services = local\n"
        "[services local]\n"
        "kms =\n"
        "  endpoint_url = http://services-kms.example:4566\n"
        "sts =\n"
        "  endpoint_url = http://services-sts.example:4566\n",
        NULL);
  cfg = cfg_new();
  resolve(cfg, &s, &e);
  EQ_STR(s.endpoint_url, "http://services-kms.example:4566",
         "the services section's kms endpoint_url");
  EQ_STR(s.sts_endpoint_url, "http://services-sts.example:4566",
         "the services section's sts endpoint_url");
  done_settings(cfg, &s);

  setenv("AWS_ENDPOINT_URL", "http://global.example", 1);
  cfg = cfg_new();
  resolve(cfg, &s, &e);
  EQ_STR(s.endpoint_url, "http://global.example",
         "AWS_ENDPOINT_URL beats the services section");
  EQ_STR(s.sts_endpoint_url, "http://global.example",
         "and applies to STS too");
  done_settings(cfg, &s);

  setenv("AWS_ENDPOINT_URL_KMS", "https://kms-only.example", 1);
  setenv("AWS_ENDPOINT_URL_STS", "https://sts-only.example", 1);
  cfg = cfg_new();
  resolve(cfg, &s, &e);
  EQ_STR(s.endpoint_url, "https://kms-only.example",
         "AWS_ENDPOINT_URL_KMS beats AWS_ENDPOINT_URL");
  EQ_STR(s.sts_endpoint_url, "https://sts-only.example",
         "AWS_ENDPOINT_URL_STS for STS");
  done_settings(cfg, &s);

  cfg = cfg_new();
  kms_config_set(cfg, "endpoint_url", "http://127.0.0.1:9", NULL);
  resolve(cfg, &s, &e);
  EQ_STR(s.endpoint_url, "http://127.0.0.1:9",
         "the explicit endpoint beats everything");
  EQ_STR(s.sts_endpoint_url, "https://sts-only.example",
         "the explicit KMS endpoint does not move STS");
  done_settings(cfg, &s);

  setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true", 1);
  cfg = cfg_new();
  resolve(cfg, &s, &e);
  OK(s.endpoint_url == NULL && s.sts_endpoint_url == NULL,
     "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS ignores env and files");
  done_settings(cfg, &s);

  reset_env();
  files("[default]\nendpoint_url = http://profile.example\n", NULL);
  cfg = cfg_new();
  resolve(cfg, &s, &e);
  EQ_STR(s.endpoint_url, "http://profile.example",
         "the profile's global endpoint_url comes last");
  done_settings(cfg, &s);

  files(NULL, NULL);
  cfg = cfg_new();
  kms_config_set(cfg, "endpoint_url", "not-a-url", NULL);
  OK(resolve(cfg, &s, &e) == KMS_ERR_CONFIG, "no scheme: KMS_ERR_CONFIG");
  EQ_STR(e.message,
         "Bad value for --endpoint-url \"not-a-url\": scheme is missing.  "
         "Must be of the form http://<hostname>/ or https://<hostname>/",
         "the AWS CLI's message");
  kms_config_free(cfg);
  cfg = cfg_new();
  kms_config_set(cfg, "endpoint_url", "", NULL);
  OK(resolve(cfg, &s, &e) == KMS_ERR_CONFIG, "empty endpoint refused");
  kms_config_free(cfg);
  setenv("AWS_ENDPOINT_URL_KMS", "ftp://x.example/", 1);
  expect_error("ftp endpoint", KMS_ERR_CONFIG,
               "An HTTP Client raised an unhandled exception: Not "
               "supported URL scheme ftp");
  setenv("AWS_ENDPOINT_URL_KMS", "kms.example", 1);
  expect_error("env endpoint without scheme", KMS_ERR_CONFIG,
               "Bad value for AWS_ENDPOINT_URL_KMS \"kms.example\": scheme "
               "is missing.  Must be of the form http://<hostname>/ or "
               "https://<hostname>/");
}

static void test_retries_and_timeouts(void)
{
  kms_config *cfg;
  kmsi_settings s;
  kms_error e;

  reset_env();
  files("[default]\nretry_mode = adaptive\nmax_attempts = 7\n", NULL);
  cfg = cfg_new();
  resolve(cfg, &s, &e);
  OK(s.retry_mode == KMSI_RETRY_ADAPTIVE && s.max_attempts == 7,
     "retry_mode and max_attempts from the profile");
  done_settings(cfg, &s);

  setenv("AWS_RETRY_MODE", "standard", 1);
  setenv("AWS_MAX_ATTEMPTS", " 5 ", 1);
  cfg = cfg_new();
  resolve(cfg, &s, &e);
  OK(s.retry_mode == KMSI_RETRY_STANDARD && s.max_attempts == 5,
     "the environment beats the profile (int() strips spaces)");
  done_settings(cfg, &s);

  cfg = cfg_new();
  kms_config_set(cfg, "max_attempts", "1", NULL);
  kms_config_set(cfg, "retry_mode", "adaptive", NULL);
  resolve(cfg, &s, &e);
  OK(s.retry_mode == KMSI_RETRY_ADAPTIVE && s.max_attempts == 1,
     "explicit beats the environment");
  done_settings(cfg, &s);

  setenv("AWS_RETRY_MODE", "legacy", 1);
  expect_error("legacy mode", KMS_ERR_CONFIG,
               "Invalid value provided to \"mode\": \"legacy\" must be one "
               "of: \"standard\" or \"adaptive\"");
  setenv("AWS_RETRY_MODE", "standard", 1);
  setenv("AWS_MAX_ATTEMPTS", "0", 1);
  expect_error("max_attempts 0", KMS_ERR_CONFIG,
               "Value provided to \"max_attempts\": 0 must be an integer "
               "greater than or equal to one.");
  setenv("AWS_MAX_ATTEMPTS", "-2", 1);
  expect_error("max_attempts -2", KMS_ERR_CONFIG,
               "Value provided to \"max_attempts\": -2 must be an integer "
               "greater than or equal to one.");
  setenv("AWS_MAX_ATTEMPTS", "abc", 1);
  expect_error("max_attempts abc", KMS_ERR_CONFIG,
               "invalid literal for int() with base 10: 'abc'");
  unsetenv("AWS_MAX_ATTEMPTS");
  unsetenv("AWS_RETRY_MODE");

  cfg = cfg_new();
  kms_config_set(cfg, "connect_timeout", "5", NULL);
  kms_config_set(cfg, "read_timeout", "0", NULL);
  resolve(cfg, &s, &e);
  OK(s.connect_timeout_ms == 5000 && s.read_timeout_ms == 0,
     "timeouts in seconds, 0 means none");
  done_settings(cfg, &s);

  cfg = cfg_new();
  kms_config_set(cfg, "connect_timeout", "-1", NULL);
  OK(resolve(cfg, &s, &e) == KMS_ERR_CONFIG, "negative connect timeout");
  EQ_STR(e.message,
         "Attempted to set connect timeout to -1, but the timeout cannot be "
         "set to a value less than or equal to 0.",
         "the AWS CLI's message");
  kms_config_free(cfg);
  cfg = cfg_new();
  kms_config_set(cfg, "read_timeout", "-3", NULL);
  OK(resolve(cfg, &s, &e) == KMS_ERR_CONFIG, "negative read timeout");
  EQ_STR(e.message,
         "Attempted to set read timeout to -3, but the timeout cannot be "
         "set to a value less than or equal to 0.",
         "the same words for the read timeout");
  kms_config_free(cfg);
  cfg = cfg_new();
  kms_config_set(cfg, "read_timeout", "abc", NULL);
  OK(resolve(cfg, &s, &e) == KMS_ERR_CONFIG, "non-integer timeout");
  EQ_STR(e.message, "invalid literal for int() with base 10: 'abc'",
         "Python's int() message");
  kms_config_free(cfg);
}

static void test_flags(void)
{
  kms_config *cfg;
  kmsi_settings s;
  kms_error e;

  reset_env();
  files("[default]\nuse_fips_endpoint = true\nca_bundle = /p/ca.pem\n"
        "use_dualstack_endpoint = yes\n",
        NULL);
  cfg = cfg_new();
  resolve(cfg, &s, &e);
  OK(s.use_fips && !s.use_dualstack,
     "profile flags: \"true\" is true, anything else false");
  EQ_STR(s.ca_bundle, "/p/ca.pem", "ca_bundle from the profile");
  done_settings(cfg, &s);

  setenv("AWS_USE_FIPS_ENDPOINT", "FALSE", 1);
  setenv("AWS_USE_DUALSTACK_ENDPOINT", "TRUE", 1);
  setenv("AWS_CA_BUNDLE", "/e/ca.pem", 1);
  cfg = cfg_new();
  resolve(cfg, &s, &e);
  OK(!s.use_fips && s.use_dualstack, "env flags beat the profile");
  EQ_STR(s.ca_bundle, "/e/ca.pem", "AWS_CA_BUNDLE beats the profile");
  done_settings(cfg, &s);

  cfg = cfg_new();
  kms_config_set(cfg, "use_fips_endpoint", "true", NULL);
  kms_config_set(cfg, "use_dualstack_endpoint", "false", NULL);
  kms_config_set(cfg, "ca_bundle", "/x/ca.pem", NULL);
  kms_config_set(cfg, "verify_tls", "false", NULL);
  kms_config_set(cfg, "no_sign_request", "true", NULL);
  kms_config_set(cfg, "user_agent", "test/1", NULL);
  resolve(cfg, &s, &e);
  OK(s.use_fips && !s.use_dualstack && !s.verify_tls && s.no_sign_request,
     "explicit flags");
  EQ_STR(s.ca_bundle, "/x/ca.pem", "explicit ca_bundle");
  EQ_STR(s.user_agent, "test/1", "user_agent");
  done_settings(cfg, &s);

  cfg = cfg_new();
  kms_config_set(cfg, "verify_tls", "maybe", NULL);
  OK(resolve(cfg, &s, &e) == KMS_ERR_CONFIG, "verify_tls must be a bool");
  EQ_STR(e.message, "config: verify_tls must be \"true\" or \"false\", not "
         "\"maybe\"", "its message");
  kms_config_free(cfg);
  cfg = cfg_new();
  kms_config_set(cfg, "use_fips_endpoint", "1", NULL);
  OK(resolve(cfg, &s, &e) == KMS_ERR_CONFIG,
     "an explicit flag must be true or false");
  kms_config_free(cfg);
}

static void test_settings_nomem(void)
{
  long n;
  int ok = 1, succeeded = 0;

  reset_env();
  files("[default]\nregion = eu-west-1\nservices = s\n[services s]\n"
        "kms =\n  endpoint_url = http://k.example\n",
        "[default]\naws_access_key_id = AKID\n");
  setenv("AWS_CA_BUNDLE", "/ca.pem", 1);
  for (n = 1; n < 200 && !succeeded; n++) {
    kms_config *cfg = cfg_new();
    kmsi_settings s;
    kms_error e;
    kms_status r;
    kms_config_set(cfg, "user_agent", "ua", NULL);
    st.calls = 0;
    st.fail_at = n;
    r = resolve(cfg, &s, &e);
    st.fail_at = 0;
    if (r == KMS_OK) {
      succeeded = 1;
      ok &= strcmp(s.endpoint_url, "http://k.example") == 0;
      kmsi_settings_free(&s, kmsi_config_allocator(cfg));
    } else {
      ok &= r == KMS_ERR_NOMEM;
    }
    kms_config_free(cfg);
  }
  OK(ok && succeeded, "every allocation failure is KMS_ERR_NOMEM (%ld "
     "tried)", n - 1);
  OK(st.blocks == 0, "no leak after the sweep (blocks %ld)", st.blocks);
}
/* }===== */

/* {===== the shared files ===== */

static kmsi_profiles *load(const char *config, const char *credentials,
                           kms_error *e)
{
  kmsi_profiles *p = NULL;
  kmsi_allocator a;
  files(config, credentials);
  kmsi_allocator_init(&a, t_alloc, &st);
  kms_error_clear(e);
  kmsi_profiles_load(&a, cfg_path, cred_path, &p, e);
  return p;
}

static void test_ini(void)
{
  kmsi_profiles *p;
  kms_error e;
  static const char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  char token[1301], line[1400], comment_line[1500];
  size_t i;

  p = load("# a comment\n"
           "; another\n"
           "[default]\n"
           "Region = eu-west-1 ; inline comment\n"
           "output=json\n"
           "[profile   spaced]\n"
           "region = us-east-2\n"
           "[profile \"quoted name\"]\n"
           "region = us-west-1\n"
           "[profilenospace]\n"
           "region = nowhere\n"
           "[profile two words]\n"
           "region = nowhere\n"
           "[profile multi]\n"
           "note = first\n"
           "  second\n"
           "    # not a comment inside a value? configparser keeps it\n"
           "region: ap-east-1\n",
           "[default]\n"
           "aws_access_key_id = AKIDFILE\n"
           "output = text\n",
           &e);
  OK(p != NULL, "files parse: %s", e.message);
  EQ_STR(kmsi_profiles_get(p, "default", "region"),
         "eu-west-1 ; inline comment",
         "keys are lowercased; \" ;\" is no comment (configparser)");
  EQ_STR(kmsi_profiles_get(p, "default", "output"), "text",
         "the credentials file wins over the config file");
  EQ_STR(kmsi_profiles_get_in(p, KMSI_FILE_CONFIG, "default", "output"),
         "json", "the config file's own value");
  EQ_STR(kmsi_profiles_get(p, "spaced", "region"), "us-east-2",
         "[profile   spaced]");
  EQ_STR(kmsi_profiles_get(p, "quoted name", "region"), "us-west-1",
         "[profile \"quoted name\"]");
  OK(!kmsi_profiles_exists(p, "nospace") &&
         !kmsi_profiles_exists(p, "profilenospace") &&
         !kmsi_profiles_exists(p, "two"),
     "[profilenospace] and [profile two words] are no profiles");
  EQ_STR(kmsi_profiles_get(p, "multi", "note"), "first\nsecond",
         "continuation lines join with a newline");
  EQ_STR(kmsi_profiles_get(p, "multi", "region"), "ap-east-1",
         "\"name: value\" works too");
  OK(kmsi_profiles_exists(p, "default") && !kmsi_profiles_exists(p, "x"),
     "exists");
  OK(kmsi_profiles_get(p, "nosuch", "region") == NULL, "absent profile");
  kmsi_profiles_free(p);

  /* A session token is about 1 KiB: inih's 200-byte lines must not cut
   * it. */
  for (i = 0; i < sizeof token - 1; i++)
    token[i] = alphabet[i % 64];
  token[sizeof token - 1] = '\0';
  snprintf(line, sizeof line,
           "\xEF\xBB\xBF[default]\r\naws_session_token = %s\r\n"
           "aws_access_key_id = AKID\r\n", token);
  p = load(NULL, line, &e);
  EQ_STR(kmsi_profiles_get(p, "default", "aws_session_token"), token,
         "a 1300-byte value survives (BOM, CRLF)");
  EQ_STR(kmsi_profiles_get(p, "default", "aws_access_key_id"), "AKID",
         "and the next line is read as itself");
  kmsi_profiles_free(p);

  snprintf(comment_line, sizeof comment_line,
           "[default]\nk = %.400s x ;%.600s\n# %.400s\nz = 1 ; 2\n",
           token, token, token);
  p = load(comment_line, NULL, &e);
  OK(p && strlen(kmsi_profiles_get(p, "default", "k")) == 1004 &&
         strstr(kmsi_profiles_get(p, "default", "k"), " x ;ABC"),
     "a long line keeps its \" ;\" and what follows");
  EQ_STR(kmsi_profiles_get(p, "default", "z"), "1 ; 2",
         "a long comment line is skipped whole");
  kmsi_profiles_free(p);
  p = load("[default]\nk = a\x02" "b\n", NULL, &e);
  OK(p == NULL && e.status == KMS_ERR_PARSE,
     "a file with a 0x02 byte is refused");
  kmsi_profiles_free(p);

  p = load("[services s1]\n"
           "kms =\n"
           "  endpoint_url = http://a.example\n"
           "  other = 2\n"
           "[profile x]\n"
           "services = s1\n",
           NULL, &e);
  EQ_STR(kmsi_profiles_service_get(p, "x", "kms", "endpoint_url"),
         "http://a.example", "the nested services value");
  OK(kmsi_profiles_service_get(p, "x", "sts", "endpoint_url") == NULL &&
         kmsi_profiles_service_get(p, "default", "kms", "endpoint_url") ==
             NULL,
     "no nested value for another service or profile");
  kmsi_profiles_free(p);

  p = load("region = x\n[default]\n", NULL, &e);
  OK(p == NULL && e.status == KMS_ERR_PARSE, "a value before any section");
  {
    char want[400];
    snprintf(want, sizeof want, "Unable to parse config file: %s (line 1)",
             cfg_path);
    EQ_STR(e.message, want, "botocore's message with the line");
  }
  p = load("[default]\nregion = x\nthis line has no equals sign\n", NULL,
           &e);
  OK(p == NULL && e.status == KMS_ERR_PARSE && strstr(e.message, "line 3"),
     "a line without \"=\" is a parse error at its line");
  p = load("[default]\nbroken = \n  not nested\n", NULL, &e);
  OK(p == NULL && e.status == KMS_ERR_PARSE,
     "a nested value line without \"=\" is a parse error");
  p = load(NULL, "[default]\naws_secret_access_key = SECRET-IN-LINE\n"
           "[oops\n", &e);
  OK(p == NULL && e.status == KMS_ERR_PARSE &&
         !strstr(e.message, "SECRET-IN-LINE"),
     "a parse error quotes no line of the file");

  files(NULL, NULL);
  {
    kmsi_allocator a;
    kmsi_allocator_init(&a, t_alloc, &st);
    p = NULL;
    OK(kmsi_profiles_load(&a, cfg_path, NULL, &p, &e) == KMS_OK && p &&
           !kmsi_profiles_exists(p, "default"),
       "a missing file is an empty one");
    kmsi_profiles_free(p);
  }
  p = load("[default]\nregion = a\n[default]\nregion = b\nx = 1\n"
           "[profile default]\nregion = c\n", NULL, &e);
  EQ_STR(kmsi_profiles_get(p, "default", "region"), "c",
         "[profile default] is the last default section and wins");
  kmsi_profiles_free(p);
  OK(st.blocks == 0, "no leak in the ini tests (blocks %ld)", st.blocks);
}

static void test_parse_int(void)
{
  static const struct {
    const char *s;
    int ok;
    long v;
  } cases[] = {{"3", 1, 3},      {" 12 ", 1, 12},  {"+4", 1, 4},
               {"-1", 1, -1},    {"1_000", 1, 1000}, {"1__0", 0, 0},
               {"_1", 0, 0},     {"1_", 0, 0},     {"", 0, 0},
               {"abc", 0, 0},    {"1.5", 0, 0},    {"0x10", 0, 0},
               {"99999999999999999999999", 0, 0}};
  size_t i;
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    long v = 0;
    int ok = kmsi_parse_int(cases[i].s, &v);
    OK(ok == cases[i].ok && (!ok || v == cases[i].v),
       "int('%s') %s", cases[i].s, cases[i].ok ? "parses" : "fails");
  }
}
/* }===== */

int main(void)
{
  const char *tmp = getenv("TMPDIR");
  snprintf(dir, sizeof dir, "%s/kms-test-config-XXXXXX", tmp ? tmp : "/tmp");
  if (!mkdtemp(dir)) {
    perror("mkdtemp");
    return 1;
  }
  snprintf(cfg_path, sizeof cfg_path, "%s/config", dir);
  snprintf(cred_path, sizeof cred_path, "%s/credentials", dir);

  test_config_object();
  test_config_nomem();
  test_defaults();
  test_region();
  test_profile();
  test_endpoint_settings();
  test_retries_and_timeouts();
  test_flags();
  test_settings_nomem();
  test_ini();
  test_parse_int();

  unlink(cfg_path);
  unlink(cred_path);
  rmdir(dir);
  OK(st.blocks == 0 && st.bytes == 0, "no leak overall (blocks %ld)",
     st.blocks);
  return t_done();
}
