/* jmespath.c - kms_jmespath_search, the entry point of the JMESPath engine
 * behind --query: compile, read the document with cJSON, evaluate, print;
 * and kms_jmespath_check, the syntax check made before sending.
 * Also the error reporting shared by the engine's files, worded like
 * jmespath.py's messages (what the AWS CLI prints). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "jmespath.h"

/* {===== errors ===== */

const char *kmsi_jp_errkind_name(kmsi_jp_errkind kind)
{
  switch (kind) {
  case KMSI_JPE_NONE: return "none";
  case KMSI_JPE_SYNTAX: return "syntax";
  case KMSI_JPE_INVALID_TYPE: return "invalid-type";
  case KMSI_JPE_INVALID_ARITY: return "invalid-arity";
  case KMSI_JPE_UNKNOWN_FUNCTION: return "unknown-function";
  case KMSI_JPE_INVALID_VALUE: return "invalid-value";
  case KMSI_JPE_JSON: return "invalid-json";
  case KMSI_JPE_NOMEM: return "nomem";
  }
  return "unknown";
}

void kmsi_jp_fail(kmsi_jp_ctx *ctx, kmsi_jp_errkind kind, const char *fmt,
                  ...)
{
  va_list ap;
  char *msg;
  int n;
  size_t end, lead;

  if (ctx->kind != KMSI_JPE_NONE)
    return;
  ctx->kind = kind;
  if (!ctx->err)
    return;
  ctx->err->status = kind == KMSI_JPE_NOMEM ? KMS_ERR_NOMEM : KMS_ERR_PARSE;
  msg = ctx->err->message;
  va_start(ap, fmt);
  n = vsnprintf(msg, sizeof ctx->err->message, fmt, ap);
  va_end(ap);
  if (n >= (int)sizeof ctx->err->message) {
    /* truncated: drop a partial UTF-8 sequence at the end */
    end = sizeof ctx->err->message - 1;
    lead = end;
    while (lead > 0 && ((unsigned char)msg[lead - 1] & 0xc0) == 0x80)
      lead--;
    if (lead > 0 && (unsigned char)msg[lead - 1] >= 0xc0 &&
        kmsi_jp_utf8_step(msg + lead - 1, end - lead + 1) == 1)
      msg[lead - 1] = '\0';
  }
}

void kmsi_jp_nomem(kmsi_jp_ctx *ctx)
{
  kmsi_jp_fail(ctx, KMSI_JPE_NOMEM, "jmespath: out of memory");
}

/* Three shapes, as jmespath.py words them: a lexer error (tok NULL), an
 * incomplete expression (tok at the end), and a parse error at a token.
 * Columns count code points; the caret line points at the column. */
void kmsi_jp_syntax_error(kmsi_jp_ctx *ctx, size_t pos, const char *reason,
                          const kmsi_jp_token *tok)
{
  size_t col = kmsi_utf8_length(ctx->expr, pos);
  int elen = (int)ctx->expr_len;
  char type[32];
  size_t i;

  if (!tok) {
    kmsi_jp_fail(ctx, KMSI_JPE_SYNTAX,
                 "Bad jmespath expression: %s:\n%.*s\n%*s^", reason, elen,
                 ctx->expr, (int)col, "");
  } else if (tok->type == KMSI_JPT_EOF) {
    col = kmsi_utf8_length(ctx->expr, ctx->expr_len);
    kmsi_jp_fail(ctx, KMSI_JPE_SYNTAX,
                 "Invalid jmespath expression: Incomplete expression:\n"
                 "\"%.*s\"\n%*s^", elen, ctx->expr, (int)col + 1, "");
  } else {
    kmsi_strlcpy(type, kmsi_jp_tok_name(tok->type), sizeof type);
    for (i = 0; type[i]; i++)
      if (type[i] >= 'a' && type[i] <= 'z')
        type[i] = (char)(type[i] - 'a' + 'A');
    kmsi_jp_fail(ctx, KMSI_JPE_SYNTAX,
                 "%s: Parse error at column %zu, token \"%.*s\" (%s), for "
                 "expression:\n\"%.*s\"\n%*s^", reason, col,
                 (int)(tok->end - tok->start), ctx->expr + tok->start, type,
                 elen, ctx->expr, (int)col + 1, "");
  }
}
/* }===== */

static void ctx_init(kmsi_jp_ctx *ctx, const kmsi_allocator *a,
                     const char *expression, kms_error *err)
{
  memset(ctx, 0, sizeof *ctx);
  kmsi_allocator_init(&ctx->alloc, a ? a->fn : NULL, a ? a->ud : NULL);
  ctx->err = err;
  ctx->expr = expression;
  ctx->expr_len = strlen(expression);
}

/* Reads the document: cJSON, then a check that only whitespace follows
 * the value, then the conversion into shared values (with the written
 * form of every number, so 1.0 stays a float as in Python). */
static kmsi_jp_value *read_document(kmsi_jp_ctx *ctx, const char *json,
                                    size_t len)
{
  const char *end = NULL;
  cJSON *doc = cJSON_ParseWithLengthOpts(json, len, &end, 0);
  kmsi_jp_value *v = NULL;
  kms_buf forms;
  size_t next = 0;

  kmsi_buf_init(&forms, &ctx->alloc, 0);
  if (!doc) {
    kmsi_jp_fail(ctx, KMSI_JPE_JSON,
                 "jmespath: invalid JSON document at offset %zu",
                 end && end >= json ? (size_t)(end - json) : (size_t)0);
    goto cleanup;
  }
  while (end < json + len &&
         (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r'))
    end++;
  if (end != json + len) {
    kmsi_jp_fail(ctx, KMSI_JPE_JSON,
                 "jmespath: unexpected data after the JSON document at "
                 "offset %zu", (size_t)(end - json));
    goto cleanup;
  }
  if (kmsi_jp_number_forms(json, len, &forms) != KMS_OK) {
    kmsi_jp_nomem(ctx);
    goto cleanup;
  }
  v = kmsi_jp_from_cjson(ctx, doc, &forms, &next);
cleanup:
  kms_buf_free(&forms);
  cJSON_Delete(doc);
  return v;
}

kms_status kmsi_jmespath_search_ex(const kmsi_allocator *a,
                                   const char *expression,
                                   const char *json, size_t json_len,
                                   kms_buf *out, kms_error *err,
                                   kmsi_jp_errkind *kind)
{
  kms_status result = KMS_ERR_INVALID_ARG;
  kmsi_jp_ctx ctx;
  kmsi_jp_ast *ast = NULL;
  kmsi_jp_value *doc = NULL, *res = NULL;

  memset(&ctx, 0, sizeof ctx);
  if (kind)
    *kind = KMSI_JPE_NONE;
  if (!out || !expression || !json) {
    kmsi_error(err, KMS_ERR_INVALID_ARG,
               "jmespath: expression, document and out are required");
    if (out)
      kmsi_buf_init(out, a, 0);
    goto cleanup;
  }
  kmsi_buf_init(out, a, 0);
  ctx_init(&ctx, a, expression, err);
  ast = kmsi_jp_compile(&ctx, expression, ctx.expr_len);
  if (!ast)
    goto cleanup;
  doc = read_document(&ctx, json, json_len);
  if (!doc)
    goto cleanup;
  res = kmsi_jp_eval(&ctx, kmsi_jp_ast_root(ast), doc);
  if (!res)
    goto cleanup;
  if (kmsi_jp_to_json(&ctx, res, 0, out) != KMS_OK)
    goto cleanup;
  result = KMS_OK;
cleanup:
  if (result != KMS_OK && ctx.kind != KMSI_JPE_NONE)
    result = ctx.kind == KMSI_JPE_NOMEM ? KMS_ERR_NOMEM : KMS_ERR_PARSE;
  if (result != KMS_OK && out)
    kms_buf_free(out);
  kmsi_jp_release(&ctx, res);
  kmsi_jp_release(&ctx, doc);
  kmsi_jp_ast_free(&ctx, ast);
  if (kind)
    *kind = ctx.kind;
  return result;
}

kms_status kmsi_jmespath_check(const char *expression, kms_error *err,
                               kmsi_jp_errkind *kind)
{
  kms_status result = KMS_ERR_INVALID_ARG;
  kmsi_jp_ctx ctx;
  kmsi_jp_ast *ast = NULL;

  memset(&ctx, 0, sizeof ctx);
  if (!expression) {
    kmsi_error(err, KMS_ERR_INVALID_ARG, "jmespath: expression is NULL");
    goto cleanup;
  }
  ctx_init(&ctx, NULL, expression, err);
  ast = kmsi_jp_compile(&ctx, expression, ctx.expr_len);
  if (!ast) {
    result = ctx.kind == KMSI_JPE_NOMEM ? KMS_ERR_NOMEM : KMS_ERR_PARSE;
    goto cleanup;
  }
  result = KMS_OK;
cleanup:
  kmsi_jp_ast_free(&ctx, ast);
  if (kind)
    *kind = ctx.kind;
  return result;
}

/* jmespath.compile() finds syntax errors only: the engine's compiler
 * also checks function names and arities, which jmespath.py leaves to
 * the search, so those failures pass here. */
kms_status kms_jmespath_check(const char *expression, kms_error *err)
{
  kmsi_jp_errkind kind = KMSI_JPE_NONE;
  kms_status result = kmsi_jmespath_check(expression, err, &kind);

  if (result == KMS_ERR_PARSE && kind != KMSI_JPE_SYNTAX)
    result = KMS_OK;
  if (result == KMS_OK)
    kms_error_clear(err);
  return result;
}

kms_status kms_jmespath_search(const char *expression, const char *json,
                               size_t json_len, kms_buf *out,
                               kms_error *err)
{
  return kmsi_jmespath_search_ex(NULL, expression, json, json_len, out, err,
                                 NULL);
}
