/* jmespath.h - internals of the JMESPath engine (jmespath*.c): the value
 * model, tokens, the syntax tree, the error kinds the compliance runner
 * checks and the entry points the CLI and the tests use beyond kms.h.
 * Nothing here is public ABI. */
#ifndef KMS_JMESPATH_H
#define KMS_JMESPATH_H

#include <stddef.h>
#include "internal.h"

/* Parser recursion and syntax-tree height are capped so that hostile
 * expressions cannot exhaust the stack; evaluation recursion is bounded by
 * the tree height. Values built at run time are capped a little above
 * cJSON's own nesting limit (1000) so every document fits. */
#define KMSI_JP_MAX_DEPTH 256
#define KMSI_JP_MAX_VALUE_DEPTH 1100

/* {===== errors and entry points (jmespath.c) ===== */

/* The error classes of the JMESPath compliance suite, plus the failures
 * that are ours (allocation, a malformed document). */
typedef enum kmsi_jp_errkind {
  KMSI_JPE_NONE = 0,
  KMSI_JPE_SYNTAX,            /* lexer or parser error, nesting too deep */
  KMSI_JPE_INVALID_TYPE,      /* a function argument of the wrong type */
  KMSI_JPE_INVALID_ARITY,     /* a function called with a wrong count */
  KMSI_JPE_UNKNOWN_FUNCTION,  /* no such function */
  KMSI_JPE_INVALID_VALUE,     /* slice step 0, a value nested too deeply */
  KMSI_JPE_JSON,              /* the document is not valid JSON */
  KMSI_JPE_NOMEM              /* an allocation failed */
} kmsi_jp_errkind;

/* "syntax", "invalid-type", "invalid-arity", "unknown-function",
 * "invalid-value", "invalid-json", "nomem" or "none". Static. */
const char *kmsi_jp_errkind_name(kmsi_jp_errkind kind);

/* kms_jmespath_search with an allocator (NULL: default) and the error
 * class: *kind (may be NULL) receives KMSI_JPE_NONE on success. The
 * status is KMS_OK, KMS_ERR_NOMEM, KMS_ERR_INVALID_ARG (NULL expression,
 * document or out) or KMS_ERR_PARSE for every JMESPath error. out is
 * initialised by the call and holds the compact JSON result on success. */
kms_status kmsi_jmespath_search_ex(const kmsi_allocator *a,
                                   const char *expression,
                                   const char *json, size_t json_len,
                                   kms_buf *out, kms_error *err,
                                   kmsi_jp_errkind *kind);

/* Compiles expression and throws the tree away: the static checks only
 * (syntax, unknown function, arity), as the AWS CLI checks --query before
 * it sends anything. Same status and kind conventions as above. */
kms_status kmsi_jmespath_check(const char *expression, kms_error *err,
                               kmsi_jp_errkind *kind);
/* }===== */

/* {===== evaluation context (jmespath.c) ===== */

/* Carried through lexing, parsing and evaluation: the allocator, the
 * caller's error report and the first failure seen. */
typedef struct kmsi_jp_ctx {
  kmsi_allocator alloc;
  kms_error *err;
  kmsi_jp_errkind kind;   /* KMSI_JPE_NONE until the first failure */
  const char *expr;       /* the expression, for messages */
  size_t expr_len;
} kmsi_jp_ctx;

/* Records a failure of the given kind with a formatted message, unless
 * one was recorded already (the first cause wins). */
void kmsi_jp_fail(kmsi_jp_ctx *ctx, kmsi_jp_errkind kind, const char *fmt,
                  ...) KMSI_PRINTF(3, 4);
void kmsi_jp_nomem(kmsi_jp_ctx *ctx);
/* }===== */

/* {===== values (jmespath_value.c) ===== */

typedef enum kmsi_jp_type {
  KMSI_JP_NULL = 0,
  KMSI_JP_BOOLEAN,
  KMSI_JP_NUMBER,
  KMSI_JP_STRING,
  KMSI_JP_ARRAY,
  KMSI_JP_OBJECT,
  KMSI_JP_EXPREF
} kmsi_jp_type;

typedef struct kmsi_jp_value kmsi_jp_value;
struct kmsi_jp_node;

typedef struct kmsi_jp_member {
  kmsi_jp_value *key;     /* a string value */
  kmsi_jp_value *val;
} kmsi_jp_member;

/* An immutable, reference-counted JSON value (or an expression reference).
 * Arrays and objects share their elements, so projections never copy a
 * document. null, true and false are static singletons. */
struct kmsi_jp_value {
  kmsi_jp_type type;
  unsigned char is_static;   /* a singleton: never counted, never freed */
  unsigned char is_float;    /* a number Python would hold as a float */
  unsigned depth;            /* container nesting; 0 for scalars */
  size_t refs;
  size_t size;               /* bytes of this block, for the allocator */
  union {
    int boolean;
    double number;
    struct {
      char *ptr;             /* NUL-terminated, inside this block */
      size_t len;
    } str;
    struct {
      kmsi_jp_value **items;
      size_t len, cap;
    } arr;
    struct {
      kmsi_jp_member *items;
      size_t len, cap;
      size_t *index;         /* open-addressing slots (position + 1) */
      size_t index_cap;      /* 0 while the object is small */
    } obj;
    const struct kmsi_jp_node *expref;
  } u;
};

kmsi_jp_value *kmsi_jp_null(void);
kmsi_jp_value *kmsi_jp_bool(int b);
/* New values with one reference; NULL (and ctx records nomem) on failure.
 * kmsi_jp_string with s NULL leaves the len bytes for the caller to fill
 * (the terminating NUL is already there). */
kmsi_jp_value *kmsi_jp_number(kmsi_jp_ctx *ctx, double d, int is_float);
kmsi_jp_value *kmsi_jp_string(kmsi_jp_ctx *ctx, const char *s, size_t len);
kmsi_jp_value *kmsi_jp_array(kmsi_jp_ctx *ctx, size_t cap);
kmsi_jp_value *kmsi_jp_object(kmsi_jp_ctx *ctx, size_t cap);
kmsi_jp_value *kmsi_jp_expref(kmsi_jp_ctx *ctx,
                              const struct kmsi_jp_node *node);

kmsi_jp_value *kmsi_jp_retain(kmsi_jp_value *v);
/* Drops one reference; frees at zero. NULL is a no-op. */
void kmsi_jp_release(kmsi_jp_ctx *ctx, kmsi_jp_value *v);

/* Appends v to a fresh array, taking v's reference (released on failure
 * too). Fails with invalid-value when the result would nest deeper than
 * KMSI_JP_MAX_VALUE_DEPTH. */
kms_status kmsi_jp_array_push(kmsi_jp_ctx *ctx, kmsi_jp_value *arr,
                              kmsi_jp_value *v);
/* Sets key (a string value) to val in a fresh object as a Python dict
 * does: an existing key keeps its place and takes the new value. Takes
 * both references (released on failure too). */
kms_status kmsi_jp_object_set(kmsi_jp_ctx *ctx, kmsi_jp_value *obj,
                              kmsi_jp_value *key, kmsi_jp_value *val);
/* The member's value (borrowed) or NULL when the key is absent. */
kmsi_jp_value *kmsi_jp_object_get(const kmsi_jp_value *obj, const char *key,
                                  size_t len);

/* Converts a cJSON tree (borrowed) into values. cJSON keeps no trace of
 * how a number was written, so forms (may be NULL) says it: one byte per
 * number in document order, '1' for a fraction or exponent (a Python
 * float), from kmsi_jp_number_forms; *next walks it. */
struct cJSON;
kmsi_jp_value *kmsi_jp_from_cjson(kmsi_jp_ctx *ctx, const struct cJSON *j,
                                  const kms_buf *forms, size_t *next);

/* JMESPath truthiness: false, null, "", [] and {} are false. */
int kmsi_jp_truthy(const kmsi_jp_value *v);
/* Deep equality; numbers by value, object members in any order. */
int kmsi_jp_equal(const kmsi_jp_value *a, const kmsi_jp_value *b);
/* Orders two numbers or two strings (by code point); -1, 0 or 1. */
int kmsi_jp_compare(const kmsi_jp_value *a, const kmsi_jp_value *b);
/* "null", "boolean", "number", "string", "array", "object", "expref". */
const char *kmsi_jp_type_name(kmsi_jp_type t);
/* 1 when a number would be a float in Python (fraction, huge, or a
 * computed float). */
int kmsi_jp_floatish(const kmsi_jp_value *v);
/* }===== */

/* {===== JSON text (jmespath_json.c) ===== */

/* Appends v to out as compact JSON, printed by cJSON but shaped like
 * Python's json.dumps with separators (',', ':'): numbers as Python
 * prints ints and floats (1, 1.0, 1e+16), non-ASCII escaped as \uXXXX
 * when ensure_ascii is 1 (to_string, as jmespath.py), kept as UTF-8
 * otherwise (what the AWS CLI prints). Expression references print as
 * null. */
kms_status kmsi_jp_to_json(kmsi_jp_ctx *ctx, const kmsi_jp_value *v,
                           int ensure_ascii, kms_buf *out);
/* Writes d into buf (at least 32 bytes) as Python would print it. */
void kmsi_jp_format_number(char *buf, size_t size, double d, int is_float);
/* Parses a `literal`: validated strictly (RFC 8259 as Python's json.loads
 * accepts it: surrounding whitespace allowed, no raw control characters
 * in strings; cJSON alone is laxer), then read by cJSON. Returns NULL
 * without recording an error when the text is not JSON, so the lexer can
 * fall back; *nomem is set on allocation failure. */
kmsi_jp_value *kmsi_jp_parse_json(kmsi_jp_ctx *ctx, const char *s,
                                  size_t len, int *nomem);
/* Decodes the inside of a JSON string literal (no surrounding quotes):
 * escapes resolved, surrogate pairs joined. out must hold len bytes (a
 * decoded string is never longer). Returns 0 on success, -1 when the text
 * is not a valid JSON string body (raw control character, unescaped
 * quote, bad escape, lone surrogate). */
int kmsi_jp_unescape(const char *s, size_t len, char *out, size_t *out_len);
/* Appends to forms one byte per number in the JSON text, in order: '1'
 * when it has a fraction or an exponent, '0' otherwise. It tokenizes the
 * way cJSON does, so the bytes line up with cJSON's tree. */
kms_status kmsi_jp_number_forms(const char *json, size_t len,
                                kms_buf *forms);
/* Length of the UTF-8 sequence starting at s[0] (1 for an invalid byte). */
size_t kmsi_jp_utf8_step(const char *s, size_t len);
/* }===== */

/* {===== tokens (jmespath_lex.c) ===== */

typedef enum kmsi_jp_tok {
  KMSI_JPT_EOF = 0,
  KMSI_JPT_UNQUOTED,
  KMSI_JPT_QUOTED,
  KMSI_JPT_LITERAL,
  KMSI_JPT_RBRACKET,
  KMSI_JPT_RPAREN,
  KMSI_JPT_COMMA,
  KMSI_JPT_RBRACE,
  KMSI_JPT_NUMBER,
  KMSI_JPT_CURRENT,
  KMSI_JPT_EXPREF,
  KMSI_JPT_COLON,
  KMSI_JPT_PIPE,
  KMSI_JPT_OR,
  KMSI_JPT_AND,
  KMSI_JPT_EQ,
  KMSI_JPT_GT,
  KMSI_JPT_LT,
  KMSI_JPT_GTE,
  KMSI_JPT_LTE,
  KMSI_JPT_NE,
  KMSI_JPT_FLATTEN,
  KMSI_JPT_STAR,
  KMSI_JPT_FILTER,
  KMSI_JPT_DOT,
  KMSI_JPT_NOT,
  KMSI_JPT_LBRACE,
  KMSI_JPT_LBRACKET,
  KMSI_JPT_LPAREN,
  KMSI_JPT__COUNT
} kmsi_jp_tok;

typedef struct kmsi_jp_token {
  kmsi_jp_tok type;
  size_t start, end;        /* byte offsets in the expression */
  const char *str;          /* identifier text (decoded when quoted) */
  size_t len;
  long long num;            /* number tokens, saturated */
  kmsi_jp_value *lit;       /* literal tokens; owned by the tree */
} kmsi_jp_token;

/* The jmespath.py token name ("lbracket", "unquoted_identifier", ...). */
const char *kmsi_jp_tok_name(kmsi_jp_tok t);
/* }===== */

/* {===== syntax tree (jmespath_parse.c) ===== */

typedef enum kmsi_jp_nodetype {
  KMSI_JPN_IDENTITY = 0,     /* @, and the implicit left/right sides */
  KMSI_JPN_FIELD,
  KMSI_JPN_CHAIN,            /* a.b, a[0], a | b: each child on the last */
  KMSI_JPN_INDEX,
  KMSI_JPN_SLICE,
  KMSI_JPN_PROJECTION,       /* a: left, b: right */
  KMSI_JPN_VALUE_PROJECTION,
  KMSI_JPN_FILTER_PROJECTION,/* c: condition */
  KMSI_JPN_FLATTEN,
  KMSI_JPN_LITERAL,
  KMSI_JPN_MULTI_LIST,
  KMSI_JPN_MULTI_HASH,
  KMSI_JPN_OR,
  KMSI_JPN_AND,
  KMSI_JPN_NOT,
  KMSI_JPN_COMPARE,
  KMSI_JPN_FUNCTION,
  KMSI_JPN_EXPREF
} kmsi_jp_nodetype;

struct kmsi_jp_func;

typedef struct kmsi_jp_node {
  kmsi_jp_nodetype type;
  kmsi_jp_tok op;                    /* comparators */
  unsigned height;                   /* of this subtree */
  size_t pos;                        /* byte offset, for messages */
  struct kmsi_jp_node *a, *b, *c;
  struct kmsi_jp_node **kids;        /* chain, or, and, multi-select,
                                        function arguments */
  kmsi_jp_value **keys;              /* multi-select hash keys */
  size_t nkids, kids_cap;
  const char *name;                  /* field name */
  size_t name_len;
  kmsi_jp_value *lit;                /* literal (owned by the tree) */
  long long slice[3];                /* index in slice[0] */
  unsigned char has[3];              /* which slice parts were given */
  const struct kmsi_jp_func *fn;
  struct kmsi_jp_node *next_call;    /* function calls, in source order */
} kmsi_jp_node;

typedef struct kmsi_jp_ast kmsi_jp_ast;

/* Compiles expression[0..len). Returns NULL with ctx's error recorded on
 * failure. The tree owns its literals and must be freed with
 * kmsi_jp_ast_free before ctx goes away. */
kmsi_jp_ast *kmsi_jp_compile(kmsi_jp_ctx *ctx, const char *expr, size_t len);
const kmsi_jp_node *kmsi_jp_ast_root(const kmsi_jp_ast *ast);
void kmsi_jp_ast_free(kmsi_jp_ctx *ctx, kmsi_jp_ast *ast);

/* Arena memory living as long as the tree (freed with it). */
void *kmsi_jp_ast_alloc(kmsi_jp_ctx *ctx, kmsi_jp_ast *ast, size_t n);
/* Hands a value's reference to the tree (released with it). On failure
 * the value is released and -1 returned. */
int kmsi_jp_ast_own(kmsi_jp_ctx *ctx, kmsi_jp_ast *ast, kmsi_jp_value *v);

/* Tokenizes the whole expression into *out (allocated with ctx's
 * allocator: *count entries, the last one KMSI_JPT_EOF, room for *cap).
 * Literal values and decoded identifiers belong to ast. Free the array
 * with kmsi_free(&ctx->alloc, tokens, cap * sizeof *tokens). */
kms_status kmsi_jp_tokenize(kmsi_jp_ctx *ctx, kmsi_jp_ast *ast,
                            const char *expr, size_t len,
                            kmsi_jp_token **out, size_t *count,
                            size_t *cap);
/* Records a syntax error at byte offset pos in the style of jmespath.py. */
void kmsi_jp_syntax_error(kmsi_jp_ctx *ctx, size_t pos, const char *reason,
                          const kmsi_jp_token *tok);
/* }===== */

/* {===== evaluation and functions (jmespath_eval.c, jmespath_func.c) == */

/* Evaluates node against cur (borrowed). Returns a new reference, or NULL
 * with ctx's error recorded. */
kmsi_jp_value *kmsi_jp_eval(kmsi_jp_ctx *ctx, const kmsi_jp_node *node,
                            kmsi_jp_value *cur);

/* The built-in function called name, or NULL. */
const struct kmsi_jp_func *kmsi_jp_func_lookup(const char *name,
                                               size_t len);
/* Checks a call's argument count (at compile time); records an
 * invalid-arity error and returns -1 when it is wrong. */
int kmsi_jp_func_arity(kmsi_jp_ctx *ctx, const struct kmsi_jp_func *fn,
                       size_t nargs);
/* Type-checks and runs fn on args[0..nargs) (borrowed). Returns a new
 * reference, or NULL with ctx's error recorded. */
kmsi_jp_value *kmsi_jp_func_call(kmsi_jp_ctx *ctx,
                                 const struct kmsi_jp_func *fn,
                                 kmsi_jp_value **args, size_t nargs);
/* }===== */

#endif /* KMS_JMESPATH_H */
