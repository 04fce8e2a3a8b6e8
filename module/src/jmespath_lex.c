/* jmespath_lex.c - the JMESPath tokenizer. It follows jmespath.py's lexer
 * (the one behind the AWS CLI's --query): the same tokens, the same
 * escape rules for '...' and `...`, and the deprecated `foo` literals
 * that fall back to JSON strings. */
#include <stdio.h>
#include <string.h>
#include "jmespath.h"

/* Index and slice numbers saturate here: far beyond any array length. */
#define NUMBER_LIMIT (1LL << 62)

typedef struct lexer {
  kmsi_jp_ctx *ctx;
  kmsi_jp_ast *ast;
  const char *s;
  size_t n, i;
  kmsi_jp_token *toks;
  size_t count, cap;
} lexer;

static const char *const tok_names[KMSI_JPT__COUNT] = {
  [KMSI_JPT_EOF] = "eof",
  [KMSI_JPT_UNQUOTED] = "unquoted_identifier",
  [KMSI_JPT_QUOTED] = "quoted_identifier",
  [KMSI_JPT_LITERAL] = "literal",
  [KMSI_JPT_RBRACKET] = "rbracket",
  [KMSI_JPT_RPAREN] = "rparen",
  [KMSI_JPT_COMMA] = "comma",
  [KMSI_JPT_RBRACE] = "rbrace",
  [KMSI_JPT_NUMBER] = "number",
  [KMSI_JPT_CURRENT] = "current",
  [KMSI_JPT_EXPREF] = "expref",
  [KMSI_JPT_COLON] = "colon",
  [KMSI_JPT_PIPE] = "pipe",
  [KMSI_JPT_OR] = "or",
  [KMSI_JPT_AND] = "and",
  [KMSI_JPT_EQ] = "eq",
  [KMSI_JPT_GT] = "gt",
  [KMSI_JPT_LT] = "lt",
  [KMSI_JPT_GTE] = "gte",
  [KMSI_JPT_LTE] = "lte",
  [KMSI_JPT_NE] = "ne",
  [KMSI_JPT_FLATTEN] = "flatten",
  [KMSI_JPT_STAR] = "star",
  [KMSI_JPT_FILTER] = "filter",
  [KMSI_JPT_DOT] = "dot",
  [KMSI_JPT_NOT] = "not",
  [KMSI_JPT_LBRACE] = "lbrace",
  [KMSI_JPT_LBRACKET] = "lbracket",
  [KMSI_JPT_LPAREN] = "lparen",
};

const char *kmsi_jp_tok_name(kmsi_jp_tok t)
{
  return (unsigned)t < KMSI_JPT__COUNT ? tok_names[t] : "unknown";
}

static int is_ident_start(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int is_ident(char c)
{
  return is_ident_start(c) || (c >= '0' && c <= '9');
}

static int is_digit(char c)
{
  return c >= '0' && c <= '9';
}

/* Appends a token; returns NULL (nomem recorded) on failure. */
static kmsi_jp_token *push(lexer *lx, kmsi_jp_tok type, size_t start,
                           size_t end)
{
  kmsi_jp_token *t;
  if (lx->count == lx->cap) {
    size_t ncap = lx->cap ? lx->cap * 2 : 16;
    kmsi_jp_token *p = NULL;
    if (ncap <= (size_t)-1 / sizeof *p)
      p = kmsi_malloc(&lx->ctx->alloc, ncap * sizeof *p);
    if (!p) {
      kmsi_jp_nomem(lx->ctx);
      return NULL;
    }
    if (lx->toks) {
      memcpy(p, lx->toks, lx->count * sizeof *p);
      kmsi_free(&lx->ctx->alloc, lx->toks, lx->cap * sizeof *p);
    }
    lx->toks = p;
    lx->cap = ncap;
  }
  t = &lx->toks[lx->count++];
  memset(t, 0, sizeof *t);
  t->type = type;
  t->start = start;
  t->end = end;
  return t;
}

static void lex_error(lexer *lx, size_t pos, const char *reason)
{
  kmsi_jp_syntax_error(lx->ctx, pos, reason, NULL);
}

/* Collects the text between the delimiter at lx->i and its closing twin
 * into arena memory, as jmespath.py's _consume_until does: a backslash
 * always takes the next character with it; when unescape_delim is set,
 * backslash-delimiter becomes the delimiter alone (the .replace() that
 * follows _consume_until for '...' and `...`). Leaves lx->i after the
 * closing delimiter. Returns NULL with the error recorded on failure. */
static char *consume_until(lexer *lx, char delim, int unescape_delim,
                           size_t *len)
{
  size_t start = lx->i, end, i, o = 0;
  char *buf;
  char msg[32];

  /* find the closing delimiter first, so the copy is sized exactly */
  for (end = start + 1; end < lx->n && lx->s[end] != delim; end++)
    if (lx->s[end] == '\\')
      end++;
  if (end >= lx->n) {
    snprintf(msg, sizeof msg, "Unclosed %c delimiter", delim);
    lex_error(lx, start, msg);
    return NULL;
  }
  buf = kmsi_jp_ast_alloc(lx->ctx, lx->ast, end - start);
  if (!buf)
    return NULL;
  for (i = start + 1; i < end; i++) {
    if (lx->s[i] == '\\') {
      if (!(unescape_delim && lx->s[i + 1] == delim))
        buf[o++] = '\\';
      i++;
    }
    buf[o++] = lx->s[i];
  }
  buf[o] = '\0';
  lx->i = end + 1;
  *len = o;
  return buf;
}

/* `...`: JSON, or (deprecated, still in the compliance suite) the text
 * with leading whitespace removed read as the inside of a JSON string. */
static int lex_json_literal(lexer *lx)
{
  size_t start = lx->i, len = 0, ulen;
  char *text = consume_until(lx, '`', 1, &len);
  kmsi_jp_value *v;
  kmsi_jp_token *t;
  int nomem = 0;
  const char *p;

  if (!text)
    return -1;
  v = kmsi_jp_parse_json(lx->ctx, text, len, &nomem);
  if (!v && nomem)
    return -1;
  if (!v) {
    p = text;
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' ||
           *p == '\v' || *p == '\f')
      p++;
    /* decoding in place is safe: output never outruns input */
    if (kmsi_jp_unescape(p, len - (size_t)(p - text), text, &ulen) != 0) {
      lex_error(lx, start, "Bad token: invalid JSON literal");
      return -1;
    }
    v = kmsi_jp_string(lx->ctx, text, ulen);
    if (!v)
      return -1;
  }
  if (kmsi_jp_ast_own(lx->ctx, lx->ast, v) != 0)
    return -1;
  t = push(lx, KMSI_JPT_LITERAL, start, lx->i);
  if (!t)
    return -1;
  t->lit = v;
  return 0;
}

/* '...': a string taken as written except for \' (jmespath.py keeps every
 * other backslash). */
static int lex_raw_string(lexer *lx)
{
  size_t start = lx->i, len = 0;
  char *text = consume_until(lx, '\'', 1, &len);
  kmsi_jp_value *v;
  kmsi_jp_token *t;

  if (!text)
    return -1;
  v = kmsi_jp_string(lx->ctx, text, len);
  if (!v || kmsi_jp_ast_own(lx->ctx, lx->ast, v) != 0)
    return -1;
  t = push(lx, KMSI_JPT_LITERAL, start, lx->i);
  if (!t)
    return -1;
  t->lit = v;
  return 0;
}

/* "...": a JSON string naming a field. */
static int lex_quoted(lexer *lx)
{
  size_t start = lx->i, len = 0, ulen;
  char *text = consume_until(lx, '"', 0, &len);
  kmsi_jp_token *t;

  if (!text)
    return -1;
  if (kmsi_jp_unescape(text, len, text, &ulen) != 0) {
    lex_error(lx, start, "Invalid \\escape or control character in "
              "quoted identifier");
    return -1;
  }
  t = push(lx, KMSI_JPT_QUOTED, start, lx->i);
  if (!t)
    return -1;
  t->str = text;
  t->len = ulen;
  return 0;
}

static int lex_number(lexer *lx)
{
  size_t start = lx->i;
  int neg = 0;
  long long v = 0;
  kmsi_jp_token *t;

  if (lx->s[lx->i] == '-') {
    neg = 1;
    lx->i++;
    if (lx->i >= lx->n || !is_digit(lx->s[lx->i])) {
      lex_error(lx, start, "Unknown token '-'");
      return -1;
    }
  }
  while (lx->i < lx->n && is_digit(lx->s[lx->i])) {
    int d = lx->s[lx->i] - '0';
    v = v > (NUMBER_LIMIT - d) / 10 ? NUMBER_LIMIT : v * 10 + d;
    lx->i++;
  }
  t = push(lx, KMSI_JPT_NUMBER, start, lx->i);
  if (!t)
    return -1;
  t->num = neg ? -v : v;
  return 0;
}

/* Emits `two` when the next character is `second`, else `one`. */
static int lex_pair(lexer *lx, char second, kmsi_jp_tok two,
                    kmsi_jp_tok one)
{
  size_t start = lx->i;
  if (lx->i + 1 < lx->n && lx->s[lx->i + 1] == second) {
    lx->i += 2;
    return push(lx, two, start, lx->i) ? 0 : -1;
  }
  lx->i++;
  return push(lx, one, start, lx->i) ? 0 : -1;
}

/* Dispatches on the character at lx->i; returns 0 or -1 (error
 * recorded). */
static int lex_one(lexer *lx)
{
  char c = lx->s[lx->i];
  size_t start = lx->i;
  kmsi_jp_tok simple = KMSI_JPT_EOF;
  kmsi_jp_token *t;
  char msg[40];

  switch (c) {
  case '.': simple = KMSI_JPT_DOT; break;
  case '*': simple = KMSI_JPT_STAR; break;
  case ']': simple = KMSI_JPT_RBRACKET; break;
  case ',': simple = KMSI_JPT_COMMA; break;
  case ':': simple = KMSI_JPT_COLON; break;
  case '@': simple = KMSI_JPT_CURRENT; break;
  case '(': simple = KMSI_JPT_LPAREN; break;
  case ')': simple = KMSI_JPT_RPAREN; break;
  case '{': simple = KMSI_JPT_LBRACE; break;
  case '}': simple = KMSI_JPT_RBRACE; break;
  case ' ': case '\t': case '\n': case '\r':
    lx->i++;
    return 0;
  case '[':
    if (lx->i + 1 < lx->n && lx->s[lx->i + 1] == ']')
      return lex_pair(lx, ']', KMSI_JPT_FLATTEN, KMSI_JPT_LBRACKET);
    return lex_pair(lx, '?', KMSI_JPT_FILTER, KMSI_JPT_LBRACKET);
  case '\'':
    return lex_raw_string(lx);
  case '`':
    return lex_json_literal(lx);
  case '"':
    return lex_quoted(lx);
  case '|':
    return lex_pair(lx, '|', KMSI_JPT_OR, KMSI_JPT_PIPE);
  case '&':
    return lex_pair(lx, '&', KMSI_JPT_AND, KMSI_JPT_EXPREF);
  case '<':
    return lex_pair(lx, '=', KMSI_JPT_LTE, KMSI_JPT_LT);
  case '>':
    return lex_pair(lx, '=', KMSI_JPT_GTE, KMSI_JPT_GT);
  case '!':
    return lex_pair(lx, '=', KMSI_JPT_NE, KMSI_JPT_NOT);
  case '=':
    if (lx->i + 1 < lx->n && lx->s[lx->i + 1] == '=')
      return lex_pair(lx, '=', KMSI_JPT_EQ, KMSI_JPT_EQ);
    lex_error(lx, start, "Unknown token '='");
    return -1;
  case '-':
    return lex_number(lx);
  default:
    break;
  }
  if (simple != KMSI_JPT_EOF) {
    lx->i++;
    return push(lx, simple, start, lx->i) ? 0 : -1;
  }
  if (is_digit(c))
    return lex_number(lx);
  if (is_ident_start(c)) {
    while (lx->i < lx->n && is_ident(lx->s[lx->i]))
      lx->i++;
    t = push(lx, KMSI_JPT_UNQUOTED, start, lx->i);
    if (!t)
      return -1;
    t->str = lx->s + start;
    t->len = lx->i - start;
    return 0;
  }
  snprintf(msg, sizeof msg, "Unknown token %.*s",
           (int)kmsi_jp_utf8_step(lx->s + start, lx->n - start),
           lx->s + start);
  lex_error(lx, start, msg);
  return -1;
}

kms_status kmsi_jp_tokenize(kmsi_jp_ctx *ctx, kmsi_jp_ast *ast,
                            const char *expr, size_t len,
                            kmsi_jp_token **out, size_t *count,
                            size_t *cap)
{
  kms_status result = KMS_ERR_PARSE;
  lexer lx;

  memset(&lx, 0, sizeof lx);
  lx.ctx = ctx;
  lx.ast = ast;
  lx.s = expr;
  lx.n = len;
  *out = NULL;
  *count = *cap = 0;
  if (len == 0) {
    kmsi_jp_fail(ctx, KMSI_JPE_SYNTAX,
                 "Invalid JMESPath expression: cannot be empty.");
    goto cleanup;
  }
  while (lx.i < lx.n)
    if (lex_one(&lx) != 0)
      goto cleanup;
  if (!push(&lx, KMSI_JPT_EOF, len, len))
    goto cleanup;
  *out = lx.toks;
  *count = lx.count;
  *cap = lx.cap;
  lx.toks = NULL;
  result = KMS_OK;
cleanup:
  if (lx.toks)
    kmsi_free(&ctx->alloc, lx.toks, lx.cap * sizeof *lx.toks);
  if (result != KMS_OK && ctx->kind == KMSI_JPE_NOMEM)
    result = KMS_ERR_NOMEM;
  return result;
}
