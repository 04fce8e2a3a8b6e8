/* threads.c - 8 threads update one store through one plugin instance
 * (plus describes, and a ninth thread reconfiguring the instance now and
 * then), then the instance is destroyed and the plugin unloaded while
 * idle. Built with -Db_sanitize=thread it is the ThreadSanitizer check of
 * the plugin's locking and of the core's per-client state.
 *
 *   plugin_threads --is-tsan                 exit 0 when built with TSan
 *   plugin_threads PLUGIN URL CA SECRET_FILE STORE_ID THREADS ITERATIONS
 */
#include <limits.h>
#include <unistd.h>
#include "plugin_test.h"

#if defined(__SANITIZE_THREAD__)
#define BUILT_WITH_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define BUILT_WITH_TSAN 1
#endif
#endif
#ifndef BUILT_WITH_TSAN
#define BUILT_WITH_TSAN 0
#endif

static const kms_plugin_ops *ops;
static kms_plugin_instance *inst;
static const char *store_id;
static int iterations;

static pthread_mutex_t count_lock = PTHREAD_MUTEX_INITIALIZER;
static int updates_ok, updates_failed, describes_ok, log_lines;
static char first_error[1024];

static void count_log(void *ud, int level, const char *msg)
{
  (void)ud;
  (void)level;
  (void)msg;
  pthread_mutex_lock(&count_lock);
  log_lines++;
  pthread_mutex_unlock(&count_lock);
}

static void note_failure(const char *what, const kms_plugin_error *e)
{
  pthread_mutex_lock(&count_lock);
  if (!first_error[0])
    snprintf(first_error, sizeof first_error, "%s: %s %.64s: %.512s", what,
             e->code_name, e->aws_type, e->message);
  pthread_mutex_unlock(&count_lock);
}

static void *worker(void *arg)
{
  int t = (int)(long)arg, i;
  char json[256], *out;

  for (i = 0; i < iterations; i++) {
    kms_plugin_error err = KMS_PLUGIN_ERROR_INIT;
    snprintf(json, sizeof json, "{\"CustomKeyStoreId\": \"%s\", "
             "\"NewCustomKeyStoreName\": \"thread-%d-update-%d\"}", store_id,
             t, i);
    if (ops->update(inst, json, NULL, &err) == 0) {
      pthread_mutex_lock(&count_lock);
      updates_ok++;
      pthread_mutex_unlock(&count_lock);
    } else {
      pthread_mutex_lock(&count_lock);
      updates_failed++;
      pthread_mutex_unlock(&count_lock);
      note_failure("update", &err);
    }
    if (i % 3 == 0) {
      out = NULL;
      if (ops->describe(inst, store_id, &out, &err) == 0 && out &&
          strstr(out, store_id)) {
        pthread_mutex_lock(&count_lock);
        describes_ok++;
        pthread_mutex_unlock(&count_lock);
      } else {
        note_failure("describe", &err);
      }
      ops->free_string(inst, out);
    }
  }
  return NULL;
}

/* Reconfigures while the workers run: the new settings apply to calls
 * that start afterwards; clients of the old generation are dropped. */
static void *reconfigurer(void *arg)
{
  kms_plugin_error err = KMS_PLUGIN_ERROR_INIT;
  int i;
  (void)arg;
  for (i = 0; i < 6; i++) {
    if (ops->configure_kv(inst, "max_attempts", i % 2 ? "3" : "4", &err))
      note_failure("configure_kv", &err);
    usleep(20000);
  }
  return NULL;
}

int main(int argc, char **argv)
{
  kms_plugin_error err = KMS_PLUGIN_ERROR_INIT;
  kms_plugin_entry_fn entry;
  kms_plugin_host host;
  pthread_t th[64], re;
  char path[PATH_MAX];
  void *dl;
  int n, i, before;

  if (argc == 2 && strcmp(argv[1], "--is-tsan") == 0)
    return BUILT_WITH_TSAN ? 0 : 1;
  if (argc != 8) {
    fprintf(stderr, "usage: plugin_threads PLUGIN URL CA SECRET_FILE "
            "STORE_ID THREADS ITERATIONS\n");
    return 2;
  }
  if (!realpath(argv[1], path))
    return 2;
  store_id = argv[5];
  n = atoi(argv[6]);
  iterations = atoi(argv[7]);
  if (n < 1 || n > 64 || iterations < 1)
    return 2;
  printf("# ThreadSanitizer: %s\n", BUILT_WITH_TSAN ? "yes" : "no");

  before = t_threads();
  entry = t_load(path, &dl);
  OK(entry != NULL, "load the plugin");
  if (!entry)
    return t_summary();
  ops = entry(KMS_PLUGIN_ABI_MAJOR, KMS_PLUGIN_ABI_MINOR, &err);
  memset(&host, 0, sizeof host);
  host.abi_major = KMS_PLUGIN_ABI_MAJOR;
  host.struct_size = sizeof host;
  host.host_name = "plugin_threads";
  host.log = count_log;
  host.log_level = KMS_LOG_DEBUG;
  inst = ops ? ops->create(&host, &err) : NULL;
  OK(inst != NULL, "one instance");
  if (!inst)
    return t_summary();
  OK(t_threads() == before, "no thread after load and create");
  OK(ops->configure_kv(inst, "region", "us-east-1", &err) == 0 &&
     ops->configure_kv(inst, "endpoint_url", argv[2], &err) == 0 &&
     ops->configure_kv(inst, "ca_bundle", argv[3], &err) == 0 &&
     ops->configure_kv(inst, "access_key_id", "AKIDEXAMPLE", &err) == 0 &&
     ops->configure_kv(inst, "secret_access_key_file", argv[4], &err) == 0 &&
     ops->configure_kv(inst, "config_file", "/dev/null", &err) == 0 &&
     ops->configure_kv(inst, "credentials_file", "/dev/null", &err) == 0 &&
     ops->configure_kv(inst, "max_attempts", "4", &err) == 0,
     "configure_kv");

  for (i = 0; i < n; i++)
    pthread_create(&th[i], NULL, worker, (void *)(long)i);
  pthread_create(&re, NULL, reconfigurer, NULL);
  for (i = 0; i < n; i++)
    pthread_join(th[i], NULL);
  pthread_join(re, NULL);

  OK(updates_ok == n * iterations && updates_failed == 0,
     "%d threads x %d updates through one instance: %d ok, %d failed%s%s",
     n, iterations, updates_ok, updates_failed, first_error[0] ? ": " : "",
     first_error);
  OK(describes_ok == n * ((iterations + 2) / 3), "describes: %d ok",
     describes_ok);
  OK(log_lines > 0, "the log sink was called from the threads (%d lines)",
     log_lines);
  ops->destroy(inst);
  OK(dlclose(dl) == 0 && t_mapped(path) == 0,
     "destroy, then dlclose while idle: unmapped");
  /* A TSan build has one more: the sanitizer's own background thread,
   * started with the first pthread_create. */
  OK(t_threads() == before + BUILT_WITH_TSAN, "no thread left (%d, %d "
     "before%s)", t_threads(), before,
     BUILT_WITH_TSAN ? ", plus TSan's background thread" : "");
  printf("# updates sent: %d\n", updates_ok);
  return t_summary();
}
