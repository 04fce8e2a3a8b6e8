/* internal.h - helpers shared by the files of the C core (kmsi_ prefix,
 * hidden visibility). Nothing here is part of the public ABI. */
#ifndef KMS_INTERNAL_H
#define KMS_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include "kms/kms.h"

#if defined(__GNUC__)
#define KMSI_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define KMSI_PRINTF(a, b)
#endif

/* {===== allocation (alloc.c) ===== */

/* The default allocator (realloc/free). */
void *kmsi_default_alloc(void *ud, void *ptr, size_t osize, size_t nsize);

/* An allocator and its user data, carried by every object. */
typedef struct kmsi_allocator {
  kms_alloc_fn fn;
  void *ud;
} kmsi_allocator;

/* Fills a with (fn, ud), or the default allocator when fn is NULL. */
void kmsi_allocator_init(kmsi_allocator *a, kms_alloc_fn fn, void *ud);
void *kmsi_malloc(const kmsi_allocator *a, size_t n);
void *kmsi_calloc(const kmsi_allocator *a, size_t n);
void kmsi_free(const kmsi_allocator *a, void *p, size_t n);
/* Wipes n bytes with a primitive the compiler cannot remove, then frees. */
void kmsi_free_secret(const kmsi_allocator *a, void *p, size_t n);
/* NUL-terminated copy of s[0..len); NULL on failure. Free with size len+1. */
char *kmsi_strndup(const kmsi_allocator *a, const char *s, size_t len);
/* Wipes memory (OPENSSL_cleanse). */
void kmsi_wipe(void *p, size_t n);
/* }===== */

/* {===== byte buffers (buf.c) ===== */

/* Initialises an empty buffer using allocator a (NULL: default). */
void kmsi_buf_init(kms_buf *b, const kmsi_allocator *a, int secret);
/* Makes room for n more bytes (plus a NUL). Secret buffers move into a
 * fresh block and wipe the old one rather than realloc. */
kms_status kmsi_buf_reserve(kms_buf *b, size_t n);
kms_status kmsi_buf_append(kms_buf *b, const void *data, size_t n);
kms_status kmsi_buf_puts(kms_buf *b, const char *s);
kms_status kmsi_buf_putc(kms_buf *b, char c);
kms_status kmsi_buf_printf(kms_buf *b, const char *fmt, ...) KMSI_PRINTF(2, 3);
/* Lowercase hex of data[0..n). */
kms_status kmsi_buf_hex(kms_buf *b, const unsigned char *data, size_t n);
/* Empties the buffer (wiping secret contents) but keeps its memory. */
void kmsi_buf_reset(kms_buf *b);
/* }===== */

/* {===== errors (error.c) ===== */

/* Sets err (if not NULL) to status with a formatted message. Returns
 * status so callers can `return kmsi_error(err, ...)`. Must never be given
 * a secret. */
kms_status kmsi_error(kms_error *err, kms_status status, const char *fmt, ...)
    KMSI_PRINTF(3, 4);
/* Appends OpenSSL's error queue to err's message and clears the queue, so
 * nothing is left behind for the host. */
kms_status kmsi_error_openssl(kms_error *err, const char *what);
/* Copies src into a fixed field, truncating. */
void kmsi_strlcpy(char *dst, const char *src, size_t size);
/* }===== */

/* {===== JSON text (json.c) ===== */

/* Appends s[0..len) as a JSON string literal the way Python's json.dumps
 * does with ensure_ascii (botocore's encoder): ", \\, \b \f \n \r \t,
 * other controls and every non-ASCII code point as lowercase \uXXXX,
 * astral ones as surrogate pairs. Invalid UTF-8 bytes are escaped as
 * U+FFFD. */
kms_status kmsi_json_put_string(kms_buf *b, const char *s, size_t len);

/* Counts Unicode code points in UTF-8 text (as the AWS tools count
 * lengths); an invalid byte counts as one. */
size_t kmsi_utf8_length(const char *s, size_t len);
/* }===== */

#endif /* KMS_INTERNAL_H */
