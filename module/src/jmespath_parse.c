/* jmespath_parse.c - compiles a JMESPath expression into a syntax tree: a
 * Pratt parser with jmespath.py's binding powers (so projections stop
 * where the AWS CLI's stop), the spec's stricter grammar where jmespath.py
 * is lax, and caps on recursion and tree height. Nodes live in an arena. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include "jmespath.h"

/* {===== arena and tree ownership ===== */

#define ARENA_CHUNK 4096

typedef struct arena_chunk {
  struct arena_chunk *next;
  size_t size;             /* bytes of this block, header included */
  size_t used;             /* bytes of data handed out */
  max_align_t data[];
} arena_chunk;

struct kmsi_jp_ast {
  arena_chunk *chunks;
  kmsi_jp_value **owned;   /* literal values and hash keys */
  size_t nowned, owned_cap;
  kmsi_jp_node *root;
};

void *kmsi_jp_ast_alloc(kmsi_jp_ctx *ctx, kmsi_jp_ast *ast, size_t n)
{
  const size_t align = sizeof(max_align_t);
  arena_chunk *c = ast->chunks;
  size_t room, size;
  void *p;

  if (n > (size_t)-1 / 2 - ARENA_CHUNK) {
    kmsi_jp_nomem(ctx);
    return NULL;
  }
  n = (n + align - 1) / align * align;
  room = c ? c->size - offsetof(arena_chunk, data) - c->used : 0;
  if (!c || room < n) {
    size = offsetof(arena_chunk, data) + n;
    if (size < ARENA_CHUNK)
      size = ARENA_CHUNK;
    c = kmsi_calloc(&ctx->alloc, size);
    if (!c) {
      kmsi_jp_nomem(ctx);
      return NULL;
    }
    c->size = size;
    c->next = ast->chunks;
    ast->chunks = c;
  }
  p = (char *)c->data + c->used;
  c->used += n;
  return p;
}

int kmsi_jp_ast_own(kmsi_jp_ctx *ctx, kmsi_jp_ast *ast, kmsi_jp_value *v)
{
  kmsi_jp_value **p;
  size_t ncap;

  if (ast->nowned == ast->owned_cap) {
    ncap = ast->owned_cap ? ast->owned_cap * 2 : 8;
    p = NULL;
    if (ncap <= (size_t)-1 / sizeof *p)
      p = kmsi_malloc(&ctx->alloc, ncap * sizeof *p);
    if (!p) {
      kmsi_jp_release(ctx, v);
      kmsi_jp_nomem(ctx);
      return -1;
    }
    if (ast->owned) {
      memcpy(p, ast->owned, ast->nowned * sizeof *p);
      kmsi_free(&ctx->alloc, ast->owned, ast->owned_cap * sizeof *p);
    }
    ast->owned = p;
    ast->owned_cap = ncap;
  }
  ast->owned[ast->nowned++] = v;
  return 0;
}

void kmsi_jp_ast_free(kmsi_jp_ctx *ctx, kmsi_jp_ast *ast)
{
  arena_chunk *c, *next;
  size_t i;

  if (!ast)
    return;
  for (i = 0; i < ast->nowned; i++)
    kmsi_jp_release(ctx, ast->owned[i]);
  kmsi_free(&ctx->alloc, ast->owned, ast->owned_cap * sizeof *ast->owned);
  for (c = ast->chunks; c; c = next) {
    next = c->next;
    kmsi_free(&ctx->alloc, c, c->size);
  }
  kmsi_free(&ctx->alloc, ast, sizeof *ast);
}

const kmsi_jp_node *kmsi_jp_ast_root(const kmsi_jp_ast *ast)
{
  return ast->root;
}
/* }===== */

/* {===== parser state and helpers ===== */

typedef struct parser {
  kmsi_jp_ctx *ctx;
  kmsi_jp_ast *ast;
  const kmsi_jp_token *toks;
  size_t count, idx;
  int depth;
  kmsi_jp_node *calls, **calls_tail;  /* resolved once the parse is done */
} parser;

/* jmespath.py's binding powers; below PROJECTION_STOP a token ends the
 * right-hand side of a projection. */
#define PROJECTION_STOP 10
static const unsigned char bp[KMSI_JPT__COUNT] = {
  [KMSI_JPT_PIPE] = 1,
  [KMSI_JPT_OR] = 2,
  [KMSI_JPT_AND] = 3,
  [KMSI_JPT_EQ] = 5, [KMSI_JPT_GT] = 5, [KMSI_JPT_LT] = 5,
  [KMSI_JPT_GTE] = 5, [KMSI_JPT_LTE] = 5, [KMSI_JPT_NE] = 5,
  [KMSI_JPT_FLATTEN] = 9,
  [KMSI_JPT_STAR] = 20,
  [KMSI_JPT_FILTER] = 21,
  [KMSI_JPT_DOT] = 40,
  [KMSI_JPT_NOT] = 45,
  [KMSI_JPT_LBRACE] = 50,
  [KMSI_JPT_LBRACKET] = 55,
  [KMSI_JPT_LPAREN] = 60,
};

static const kmsi_jp_token *cur(const parser *p)
{
  return &p->toks[p->idx];
}

static kmsi_jp_tok cur_type(const parser *p)
{
  return p->toks[p->idx].type;
}

static kmsi_jp_tok peek_type(const parser *p, size_t k)
{
  size_t i = p->idx + k;
  return i < p->count ? p->toks[i].type : KMSI_JPT_EOF;
}

/* Moves on one token; the last token (eof) is never passed. */
static void advance(parser *p)
{
  if (p->idx + 1 < p->count)
    p->idx++;
}

static void error_at(parser *p, const kmsi_jp_token *tok, const char *why)
{
  kmsi_jp_syntax_error(p->ctx, tok->start, why, tok);
}

/* "Expecting: X, got: Y", or an incomplete expression at the end. */
static void error_expect(parser *p, const char *expected)
{
  char msg[160];
  snprintf(msg, sizeof msg, "Expecting: %s, got: %s", expected,
           kmsi_jp_tok_name(cur_type(p)));
  error_at(p, cur(p), msg);
}

static int match(parser *p, kmsi_jp_tok type)
{
  if (cur_type(p) != type) {
    error_expect(p, kmsi_jp_tok_name(type));
    return -1;
  }
  advance(p);
  return 0;
}

static kmsi_jp_node *new_node(parser *p, kmsi_jp_nodetype type, size_t pos)
{
  kmsi_jp_node *n = kmsi_jp_ast_alloc(p->ctx, p->ast, sizeof *n);
  if (n) {
    n->type = type;
    n->pos = pos;
    n->height = 1;
  }
  return n;
}

/* Raises n's height to cover child and enforces the cap. */
static int cover(parser *p, kmsi_jp_node *n, const kmsi_jp_node *child)
{
  if (!child)
    return 0;
  if (child->height + 1 > n->height)
    n->height = child->height + 1;
  if (n->height > KMSI_JP_MAX_DEPTH) {
    error_at(p, cur(p), "expression nested too deeply");
    return -1;
  }
  return 0;
}

/* A node with up to three children; NULL children are simply absent, so
 * callers check required ones first (need2). NULL on error. */
static kmsi_jp_node *node3(parser *p, kmsi_jp_nodetype type, size_t pos,
                           kmsi_jp_node *a, kmsi_jp_node *b,
                           kmsi_jp_node *c)
{
  kmsi_jp_node *n = new_node(p, type, pos);
  if (!n || cover(p, n, a) || cover(p, n, b) || cover(p, n, c))
    return NULL;
  n->a = a;
  n->b = b;
  n->c = c;
  return n;
}

/* A binary node whose children are both required. */
static kmsi_jp_node *need2(parser *p, kmsi_jp_nodetype type, size_t pos,
                           kmsi_jp_node *a, kmsi_jp_node *b)
{
  if (!a || !b)
    return NULL;
  return node3(p, type, pos, a, b, NULL);
}

static kmsi_jp_node *identity(parser *p)
{
  return new_node(p, KMSI_JPN_IDENTITY, cur(p)->start);
}

/* Appends kid (and, for hashes, key) to n's list, growing it in the
 * arena. */
static int add_kid(parser *p, kmsi_jp_node *n, kmsi_jp_node *kid,
                   kmsi_jp_value *key)
{
  kmsi_jp_node **kids;
  kmsi_jp_value **keys = NULL;
  size_t ncap;

  if (!kid || cover(p, n, kid))
    return -1;
  if (n->nkids == n->kids_cap) {
    ncap = n->kids_cap ? n->kids_cap * 2 : 4;
    kids = kmsi_jp_ast_alloc(p->ctx, p->ast, ncap * sizeof *kids);
    if (!kids)
      return -1;
    if (key || n->keys) {
      keys = kmsi_jp_ast_alloc(p->ctx, p->ast, ncap * sizeof *keys);
      if (!keys)
        return -1;
      if (n->nkids)
        memcpy(keys, n->keys, n->nkids * sizeof *keys);
      n->keys = keys;
    }
    if (n->nkids)
      memcpy(kids, n->kids, n->nkids * sizeof *kids);
    n->kids = kids;
    n->kids_cap = ncap;
  }
  if (n->keys)
    n->keys[n->nkids] = key;
  n->kids[n->nkids++] = kid;
  return 0;
}

/* left followed by right (a.b, a[0], a | b): one flat list, so long
 * chains don't deepen the tree (evaluation is associative). */
static kmsi_jp_node *chain(parser *p, kmsi_jp_node *left,
                           kmsi_jp_node *right)
{
  kmsi_jp_node *n;
  if (!left || !right)
    return NULL;
  if (left->type == KMSI_JPN_IDENTITY)
    return right;
  if (left->type == KMSI_JPN_CHAIN)
    return add_kid(p, left, right, NULL) ? NULL : left;
  n = new_node(p, KMSI_JPN_CHAIN, left->pos);
  if (!n || add_kid(p, n, left, NULL) || add_kid(p, n, right, NULL))
    return NULL;
  return n;
}

/* a || b || c and a && b && c: flat lists too. */
static kmsi_jp_node *logical(parser *p, kmsi_jp_nodetype type,
                             kmsi_jp_node *left, kmsi_jp_node *right)
{
  kmsi_jp_node *n;
  if (!left || !right)
    return NULL;
  if (left->type == type)
    return add_kid(p, left, right, NULL) ? NULL : left;
  n = new_node(p, type, left->pos);
  if (!n || add_kid(p, n, left, NULL) || add_kid(p, n, right, NULL))
    return NULL;
  return n;
}
/* }===== */

/* {===== grammar ===== */

static kmsi_jp_node *expr(parser *p, int rbp);
static kmsi_jp_node *dot_rhs(parser *p, int rbp);

/* What follows a projection: nothing (a token that stops it), [..],
 * [?..] or .rhs. */
static kmsi_jp_node *projection_rhs(parser *p, int rbp)
{
  kmsi_jp_tok t = cur_type(p);
  if (bp[t] < PROJECTION_STOP)
    return identity(p);
  if (t == KMSI_JPT_LBRACKET || t == KMSI_JPT_FILTER)
    return expr(p, rbp);
  if (t == KMSI_JPT_DOT) {
    advance(p);
    return dot_rhs(p, rbp);
  }
  error_at(p, cur(p), "syntax error");
  return NULL;
}

static kmsi_jp_node *multi_list(parser *p, size_t pos);
static kmsi_jp_node *multi_hash(parser *p, size_t pos);

/* After a dot: an identifier (or function call), *, [list] or {hash}. */
static kmsi_jp_node *dot_rhs(parser *p, int rbp)
{
  kmsi_jp_tok t = cur_type(p);
  size_t pos = cur(p)->start;
  if (t == KMSI_JPT_QUOTED || t == KMSI_JPT_UNQUOTED || t == KMSI_JPT_STAR)
    return expr(p, rbp);
  if (t == KMSI_JPT_LBRACKET) {
    advance(p);
    return multi_list(p, pos);
  }
  if (t == KMSI_JPT_LBRACE) {
    advance(p);
    return multi_hash(p, pos);
  }
  error_expect(p, "['quoted_identifier', 'unquoted_identifier', "
               "'lbracket', 'lbrace']");
  return NULL;
}

static kmsi_jp_node *multi_list(parser *p, size_t pos)
{
  kmsi_jp_node *n = new_node(p, KMSI_JPN_MULTI_LIST, pos);
  if (!n)
    return NULL;
  for (;;) {
    if (add_kid(p, n, expr(p, 0), NULL))
      return NULL;
    if (cur_type(p) == KMSI_JPT_RBRACKET)
      break;
    if (match(p, KMSI_JPT_COMMA))
      return NULL;
  }
  advance(p);
  return n;
}

static kmsi_jp_node *multi_hash(parser *p, size_t pos)
{
  kmsi_jp_node *n = new_node(p, KMSI_JPN_MULTI_HASH, pos);
  const kmsi_jp_token *key;
  kmsi_jp_value *name;

  if (!n)
    return NULL;
  for (;;) {
    key = cur(p);
    if (key->type != KMSI_JPT_QUOTED && key->type != KMSI_JPT_UNQUOTED) {
      error_expect(p, "['quoted_identifier', 'unquoted_identifier']");
      return NULL;
    }
    advance(p);
    if (match(p, KMSI_JPT_COLON))
      return NULL;
    name = kmsi_jp_string(p->ctx, key->str, key->len);
    if (!name || kmsi_jp_ast_own(p->ctx, p->ast, name))
      return NULL;
    if (add_kid(p, n, expr(p, 0), name))
      return NULL;
    if (cur_type(p) == KMSI_JPT_COMMA) {
      advance(p);
    } else if (cur_type(p) == KMSI_JPT_RBRACE) {
      advance(p);
      break;
    } else {
      error_expect(p, "['comma', 'rbrace']");
      return NULL;
    }
  }
  return n;
}

/* [start:stop:step], each part optional; p is on the first part. */
static kmsi_jp_node *slice(parser *p, size_t pos)
{
  kmsi_jp_node *n = new_node(p, KMSI_JPN_SLICE, pos);
  int part = 0;

  if (!n)
    return NULL;
  while (cur_type(p) != KMSI_JPT_RBRACKET) {
    if (cur_type(p) == KMSI_JPT_COLON && part < 2) {
      part++;
    } else if (cur_type(p) == KMSI_JPT_NUMBER && !n->has[part]) {
      n->slice[part] = cur(p)->num;
      n->has[part] = 1;
    } else if (cur_type(p) == KMSI_JPT_EOF) {
      error_expect(p, "rbracket");
      return NULL;
    } else {
      error_at(p, cur(p), "syntax error");
      return NULL;
    }
    advance(p);
  }
  advance(p);
  return n;
}

/* [number] or a slice; p is on the number or colon. */
static kmsi_jp_node *index_expr(parser *p, size_t pos)
{
  kmsi_jp_node *n;
  if (cur_type(p) == KMSI_JPT_COLON || peek_type(p, 1) == KMSI_JPT_COLON)
    return slice(p, pos);
  n = new_node(p, KMSI_JPN_INDEX, pos);
  if (!n)
    return NULL;
  n->slice[0] = cur(p)->num;
  advance(p);
  return match(p, KMSI_JPT_RBRACKET) ? NULL : n;
}

/* left[index], or left[slice] which (as the spec says, unlike
 * jmespath.py after another index) always starts a projection. */
static kmsi_jp_node *project_if_slice(parser *p, kmsi_jp_node *left,
                                      kmsi_jp_node *right)
{
  kmsi_jp_node *c;
  if (!left || !right)
    return NULL;
  if (right->type != KMSI_JPN_SLICE)
    return chain(p, left, right);
  c = chain(p, left, right);
  if (!c)
    return NULL;
  return need2(p, KMSI_JPN_PROJECTION, right->pos, c,
               projection_rhs(p, bp[KMSI_JPT_STAR]));
}

static kmsi_jp_node *filter(parser *p, kmsi_jp_node *left, size_t pos)
{
  kmsi_jp_node *cond, *right;
  if (!left)
    return NULL;
  cond = expr(p, 0);
  if (!cond || match(p, KMSI_JPT_RBRACKET))
    return NULL;
  if (cur_type(p) == KMSI_JPT_FLATTEN)
    right = identity(p);
  else
    right = projection_rhs(p, bp[KMSI_JPT_FILTER]);
  if (!right)
    return NULL;
  return node3(p, KMSI_JPN_FILTER_PROJECTION, pos, left, right, cond);
}

static kmsi_jp_node *flatten(parser *p, kmsi_jp_node *left, size_t pos)
{
  kmsi_jp_node *f = left ? node3(p, KMSI_JPN_FLATTEN, pos, left, NULL,
                                 NULL) : NULL;
  if (!f)
    return NULL;
  return need2(p, KMSI_JPN_PROJECTION, pos, f,
               projection_rhs(p, bp[KMSI_JPT_FLATTEN]));
}

static kmsi_jp_node *function(parser *p, kmsi_jp_node *left,
                              const kmsi_jp_token *lparen)
{
  kmsi_jp_node *n;

  if (left->type != KMSI_JPN_FIELD) {
    error_at(p, lparen, "Invalid function name");
    return NULL;
  }
  n = new_node(p, KMSI_JPN_FUNCTION, left->pos);
  if (!n)
    return NULL;
  n->name = left->name;
  n->name_len = left->name_len;
  if (cur_type(p) != KMSI_JPT_RPAREN) {
    for (;;) {
      if (add_kid(p, n, expr(p, 0), NULL))
        return NULL;
      if (cur_type(p) == KMSI_JPT_RPAREN)
        break;
      if (match(p, KMSI_JPT_COMMA))
        return NULL;
    }
  }
  advance(p);
  *p->calls_tail = n;
  p->calls_tail = &n->next_call;
  return n;
}

/* Binds every call to its built-in and checks its argument count. This
 * runs after the whole expression parsed, so that a syntax error anywhere
 * is reported before a function error (as jmespath.py does). */
static int resolve_calls(parser *p)
{
  kmsi_jp_node *n;
  for (n = p->calls; n; n = n->next_call) {
    n->fn = kmsi_jp_func_lookup(n->name, n->name_len);
    if (!n->fn) {
      kmsi_jp_fail(p->ctx, KMSI_JPE_UNKNOWN_FUNCTION,
                   "Unknown function: %.*s()", (int)n->name_len, n->name);
      return -1;
    }
    if (kmsi_jp_func_arity(p->ctx, n->fn, n->nkids))
      return -1;
  }
  return 0;
}

/* The token tok starts an expression (it has been consumed). */
static kmsi_jp_node *nud(parser *p, const kmsi_jp_token *tok)
{
  kmsi_jp_node *n;
  size_t pos = tok->start;

  switch (tok->type) {
  case KMSI_JPT_LITERAL:
    n = new_node(p, KMSI_JPN_LITERAL, pos);
    if (n)
      n->lit = tok->lit;
    return n;
  case KMSI_JPT_QUOTED:
    if (cur_type(p) == KMSI_JPT_LPAREN) {
      error_at(p, cur(p), "Quoted identifier not allowed for function "
               "names.");
      return NULL;
    }
    /* fall through */
  case KMSI_JPT_UNQUOTED:
    n = new_node(p, KMSI_JPN_FIELD, pos);
    if (n) {
      n->name = tok->str;
      n->name_len = tok->len;
    }
    return n;
  case KMSI_JPT_STAR:
    if (cur_type(p) == KMSI_JPT_RBRACKET)
      n = identity(p);
    else
      n = projection_rhs(p, bp[KMSI_JPT_STAR]);
    return need2(p, KMSI_JPN_VALUE_PROJECTION, pos, identity(p), n);
  case KMSI_JPT_FILTER:
    return filter(p, identity(p), pos);
  case KMSI_JPT_LBRACE:
    return multi_hash(p, pos);
  case KMSI_JPT_LPAREN:
    n = expr(p, 0);
    return !n || match(p, KMSI_JPT_RPAREN) ? NULL : n;
  case KMSI_JPT_FLATTEN:
    return flatten(p, identity(p), pos);
  case KMSI_JPT_NOT:
    n = expr(p, bp[KMSI_JPT_NOT]);
    return n ? node3(p, KMSI_JPN_NOT, pos, n, NULL, NULL) : NULL;
  case KMSI_JPT_LBRACKET:
    if (cur_type(p) == KMSI_JPT_NUMBER || cur_type(p) == KMSI_JPT_COLON)
      return project_if_slice(p, identity(p), index_expr(p, pos));
    if (cur_type(p) == KMSI_JPT_STAR &&
        peek_type(p, 1) == KMSI_JPT_RBRACKET) {
      advance(p);
      advance(p);
      return need2(p, KMSI_JPN_PROJECTION, pos, identity(p),
                   projection_rhs(p, bp[KMSI_JPT_STAR]));
    }
    return multi_list(p, pos);
  case KMSI_JPT_CURRENT:
    return new_node(p, KMSI_JPN_IDENTITY, pos);
  case KMSI_JPT_EXPREF:
    n = expr(p, 0);
    return n ? node3(p, KMSI_JPN_EXPREF, pos, n, NULL, NULL) : NULL;
  default:
    error_at(p, tok, "invalid token");
    return NULL;
  }
}

static int has_led(kmsi_jp_tok t)
{
  switch (t) {
  case KMSI_JPT_DOT: case KMSI_JPT_PIPE: case KMSI_JPT_OR:
  case KMSI_JPT_AND: case KMSI_JPT_LPAREN: case KMSI_JPT_FILTER:
  case KMSI_JPT_EQ: case KMSI_JPT_NE: case KMSI_JPT_GT:
  case KMSI_JPT_GTE: case KMSI_JPT_LT: case KMSI_JPT_LTE:
  case KMSI_JPT_FLATTEN: case KMSI_JPT_LBRACKET:
    return 1;
  default:
    return 0;
  }
}

/* The token tok (consumed) continues the expression left. */
static kmsi_jp_node *led(parser *p, const kmsi_jp_token *tok,
                         kmsi_jp_node *left)
{
  size_t pos = tok->start;
  kmsi_jp_node *n;

  switch (tok->type) {
  case KMSI_JPT_DOT:
    if (cur_type(p) == KMSI_JPT_STAR) {
      advance(p);
      return need2(p, KMSI_JPN_VALUE_PROJECTION, pos, left,
                   projection_rhs(p, bp[KMSI_JPT_DOT]));
    }
    return chain(p, left, dot_rhs(p, bp[KMSI_JPT_DOT]));
  case KMSI_JPT_PIPE:
    return chain(p, left, expr(p, bp[KMSI_JPT_PIPE]));
  case KMSI_JPT_OR:
    return logical(p, KMSI_JPN_OR, left, expr(p, bp[KMSI_JPT_OR]));
  case KMSI_JPT_AND:
    return logical(p, KMSI_JPN_AND, left, expr(p, bp[KMSI_JPT_AND]));
  case KMSI_JPT_LPAREN:
    return function(p, left, tok);
  case KMSI_JPT_FILTER:
    return filter(p, left, pos);
  case KMSI_JPT_FLATTEN:
    return flatten(p, left, pos);
  case KMSI_JPT_LBRACKET:
    if (cur_type(p) == KMSI_JPT_NUMBER || cur_type(p) == KMSI_JPT_COLON)
      return project_if_slice(p, left, index_expr(p, pos));
    if (match(p, KMSI_JPT_STAR) || match(p, KMSI_JPT_RBRACKET))
      return NULL;
    return need2(p, KMSI_JPN_PROJECTION, pos, left,
                 projection_rhs(p, bp[KMSI_JPT_STAR]));
  default:  /* comparators */
    n = need2(p, KMSI_JPN_COMPARE, pos, left, expr(p, bp[tok->type]));
    if (n)
      n->op = tok->type;
    return n;
  }
}

/* Parses an expression whose operators bind tighter than rbp. Recursion
 * is capped at KMSI_JP_MAX_DEPTH. */
static kmsi_jp_node *expr(parser *p, int rbp)
{
  kmsi_jp_node *left = NULL;
  const kmsi_jp_token *tok;

  if (p->depth >= KMSI_JP_MAX_DEPTH) {
    error_at(p, cur(p), "expression nested too deeply");
    return NULL;
  }
  p->depth++;
  tok = cur(p);
  advance(p);
  left = nud(p, tok);
  while (left && rbp < bp[cur_type(p)]) {
    tok = cur(p);
    if (!has_led(tok->type)) {
      error_at(p, tok, "invalid token");
      left = NULL;
      break;
    }
    advance(p);
    left = led(p, tok, left);
  }
  p->depth--;
  return left;
}
/* }===== */

kmsi_jp_ast *kmsi_jp_compile(kmsi_jp_ctx *ctx, const char *src, size_t len)
{
  kmsi_jp_ast *ast = kmsi_calloc(&ctx->alloc, sizeof *ast);
  kmsi_jp_token *toks = NULL;
  size_t count = 0, cap = 0;
  parser p;
  int ok = 0;

  if (!ast) {
    kmsi_jp_nomem(ctx);
    goto cleanup;
  }
  if (kmsi_jp_tokenize(ctx, ast, src, len, &toks, &count, &cap) != KMS_OK)
    goto cleanup;
  memset(&p, 0, sizeof p);
  p.ctx = ctx;
  p.ast = ast;
  p.toks = toks;
  p.count = count;
  p.calls_tail = &p.calls;
  ast->root = expr(&p, 0);
  if (!ast->root)
    goto cleanup;
  if (cur_type(&p) != KMSI_JPT_EOF) {
    char msg[64];
    snprintf(msg, sizeof msg, "Unexpected token: %s",
             kmsi_jp_tok_name(cur_type(&p)));
    error_at(&p, cur(&p), msg);
    goto cleanup;
  }
  if (resolve_calls(&p))
    goto cleanup;
  ok = 1;
cleanup:
  kmsi_free(&ctx->alloc, toks, cap * sizeof *toks);
  if (!ok) {
    kmsi_jp_ast_free(ctx, ast);
    ast = NULL;
  }
  return ast;
}
