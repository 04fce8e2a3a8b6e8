/* sha256.c - SHA-256 and HMAC-SHA256 for the signer. The compression
 * function is OpenSSL's; padding, block batching and HMAC's precomputed
 * key states are done here, so a signature pays for its blocks and for
 * very little else (see sha256.h). */

/* Why the deprecated low-level API: in OpenSSL 3 every EVP_Digest* or
 * EVP_MAC_* call goes through provider dispatch, context set-up and (for
 * HMAC) key copies, which cost about as much as the hashing itself for
 * the short messages of SigV4. SHA256_Update and SHA256_Transform on
 * whole blocks call the same assembly compression function directly, and
 * the chaining value is a public field, which is what lets a signer keep
 * an HMAC key as two states. The API is deprecated, not gone: it is used
 * in this file only, for the whole-block compression step only. It
 * bypasses provider selection: a FIPS provider configured for the process
 * is not used for SigV4's SHA-256 and HMAC. When OpenSSL is built without
 * the deprecated API (or KMSI_SHA256_PORTABLE is defined), a plain C
 * compression function (FIPS 180-4) takes its place. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/opensslconf.h>
#if !defined(KMSI_SHA256_PORTABLE) && defined(OPENSSL_NO_DEPRECATED_3_0)
#define KMSI_SHA256_PORTABLE
#endif
#ifndef KMSI_SHA256_PORTABLE
#include <openssl/sha.h>
#endif
#include "sha256.h"

static const kmsi_sha256_state iv = {{
  0x6a09e667u, 0xbb67ae85u, 0x3c6ef372u, 0xa54ff53au,
  0x510e527fu, 0x9b05688cu, 0x1f83d9abu, 0x5be0cd19u,
}};

/* {=====================================================================
 * The compression function
 * ===================================================================== */

#ifndef KMSI_SHA256_PORTABLE

/* A working state: OpenSSL's context, used for whole blocks only, so
 * only h is live (nothing is ever buffered in its data field). */
typedef SHA256_CTX work;

static void work_load(work *w, const kmsi_sha256_state *s)
{
  memcpy(w->h, s->h, sizeof s->h);
  w->Nl = w->Nh = 0;
  w->num = 0;
}

/* n >= 1 whole blocks: SHA256_Update hands them to the assembly block
 * function in one call (OpenSSL's AVX2 code then does two at a time);
 * SHA256_Transform does one block with less bookkeeping. */
static void work_blocks(work *w, const unsigned char *p, size_t n)
{
  if (n == 1)
    SHA256_Transform(w, p);
  else
    SHA256_Update(w, p, n * KMSI_SHA256_BLOCK);
}

#else /* KMSI_SHA256_PORTABLE */

typedef struct work {
  uint32_t h[8];
} work;

static const uint32_t k256[64] = {
  0x428a2f98u, 0x71374491u, 0xb5c0fbcfu, 0xe9b5dba5u, 0x3956c25bu,
  0x59f111f1u, 0x923f82a4u, 0xab1c5ed5u, 0xd807aa98u, 0x12835b01u,
  0x243185beu, 0x550c7dc3u, 0x72be5d74u, 0x80deb1feu, 0x9bdc06a7u,
  0xc19bf174u, 0xe49b69c1u, 0xefbe4786u, 0x0fc19dc6u, 0x240ca1ccu,
  0x2de92c6fu, 0x4a7484aau, 0x5cb0a9dcu, 0x76f988dau, 0x983e5152u,
  0xa831c66du, 0xb00327c8u, 0xbf597fc7u, 0xc6e00bf3u, 0xd5a79147u,
  0x06ca6351u, 0x14292967u, 0x27b70a85u, 0x2e1b2138u, 0x4d2c6dfcu,
  0x53380d13u, 0x650a7354u, 0x766a0abbu, 0x81c2c92eu, 0x92722c85u,
  0xa2bfe8a1u, 0xa81a664bu, 0xc24b8b70u, 0xc76c51a3u, 0xd192e819u,
  0xd6990624u, 0xf40e3585u, 0x106aa070u, 0x19a4c116u, 0x1e376c08u,
  0x2748774cu, 0x34b0bcb5u, 0x391c0cb3u, 0x4ed8aa4au, 0x5b9cca4fu,
  0x682e6ff3u, 0x748f82eeu, 0x78a5636fu, 0x84c87814u, 0x8cc70208u,
  0x90befffau, 0xa4506cebu, 0xbef9a3f7u, 0xc67178f2u,
};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void work_load(work *w, const kmsi_sha256_state *s)
{
  memcpy(w->h, s->h, sizeof s->h);
}

static void work_blocks(work *w, const unsigned char *p, size_t n)
{
  uint32_t x[64], a, b, c, d, e, f, g, h, t1, t2;
  size_t i;

  for (; n > 0; n--, p += KMSI_SHA256_BLOCK) {
    for (i = 0; i < 16; i++)
      x[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
             (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
    for (i = 16; i < 64; i++)
      x[i] = x[i - 16] + x[i - 7] +
             (ROR(x[i - 15], 7) ^ ROR(x[i - 15], 18) ^ (x[i - 15] >> 3)) +
             (ROR(x[i - 2], 17) ^ ROR(x[i - 2], 19) ^ (x[i - 2] >> 10));
    a = w->h[0], b = w->h[1], c = w->h[2], d = w->h[3];
    e = w->h[4], f = w->h[5], g = w->h[6], h = w->h[7];
    for (i = 0; i < 64; i++) {
      t1 = h + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) +
           k256[i] + x[i];
      t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) +
           ((a & b) ^ (a & c) ^ (b & c));
      h = g, g = f, f = e, e = d + t1;
      d = c, c = b, b = a, a = t1 + t2;
    }
    w->h[0] += a, w->h[1] += b, w->h[2] += c, w->h[3] += d;
    w->h[4] += e, w->h[5] += f, w->h[6] += g, w->h[7] += h;
  }
  OPENSSL_cleanse(x, sizeof x);  /* the schedule is the message */
}

#endif /* KMSI_SHA256_PORTABLE */

/* Big-endian stores, written so that compilers merge them into one
 * byte-swapped store. */
static void store_be32(unsigned char *p, uint32_t v)
{
  p[0] = (unsigned char)(v >> 24);
  p[1] = (unsigned char)(v >> 16);
  p[2] = (unsigned char)(v >> 8);
  p[3] = (unsigned char)v;
}

static void store_be64(unsigned char *p, uint64_t v)
{
  store_be32(p, (uint32_t)(v >> 32));
  store_be32(p + 4, (uint32_t)v);
}

/* The digest of a working state. */
static void work_digest(const work *w, unsigned char out[KMSI_SHA256_LEN])
{
  store_be32(out, w->h[0]);
  store_be32(out + 4, w->h[1]);
  store_be32(out + 8, w->h[2]);
  store_be32(out + 12, w->h[3]);
  store_be32(out + 16, w->h[4]);
  store_be32(out + 20, w->h[5]);
  store_be32(out + 24, w->h[6]);
  store_be32(out + 28, w->h[7]);
}

static void work_wipe(work *w)
{
  OPENSSL_cleanse(w->h, sizeof w->h);
}

/* }===================================================================== */

/* {=====================================================================
 * SHA-256
 * ===================================================================== */

void kmsi_sha256_init(kmsi_sha256_state *s)
{
  *s = iv;
}

void kmsi_sha256_blocks(kmsi_sha256_state *s, const void *data,
                        size_t nblocks)
{
  work w;
  if (nblocks == 0)
    return;
  work_load(&w, s);
  work_blocks(&w, data, nblocks);
  memcpy(s->h, w.h, sizeof s->h);
  work_wipe(&w);
}

/* The whole blocks go straight from data; the partial block and the
 * padding (one block, two when fewer than 9 bytes are left in it) are
 * built in tail. OpenSSL's AVX2 code compresses two blocks for little
 * more than the price of one, so an odd last whole block goes into tail
 * with the padding block rather than alone. Only tail's message bytes
 * need wiping: the rest is padding. */
void kmsi_sha256_finish(const kmsi_sha256_state *s, uint64_t done,
                        const void *data, size_t n,
                        unsigned char out[KMSI_SHA256_LEN])
{
  const unsigned char *p = data;
  unsigned char tail[3 * KMSI_SHA256_BLOCK];
  size_t direct = n / KMSI_SHA256_BLOCK, tlen, used;
  work w;

  tlen = n % KMSI_SHA256_BLOCK < 56 ? KMSI_SHA256_BLOCK
                                    : 2 * KMSI_SHA256_BLOCK;
  if ((direct & 1) && tlen == KMSI_SHA256_BLOCK) {
    direct--;
    tlen += KMSI_SHA256_BLOCK;
  }
  used = n - direct * KMSI_SHA256_BLOCK;
  /* fixed sizes, so the compiler writes the zeros inline */
  if (tlen == KMSI_SHA256_BLOCK)
    memset(tail, 0, KMSI_SHA256_BLOCK);
  else
    memset(tail, 0, sizeof tail);
  if (used)
    memcpy(tail, p + direct * KMSI_SHA256_BLOCK, used);
  tail[used] = 0x80;
  store_be64(tail + tlen - 8, (done + (uint64_t)n) * 8);
  work_load(&w, s);
  if (direct)
    work_blocks(&w, p, direct);
  work_blocks(&w, tail, tlen / KMSI_SHA256_BLOCK);
  work_digest(&w, out);
  if (used)
    OPENSSL_cleanse(tail, used);
  work_wipe(&w);
}

void kmsi_sha256(const void *data, size_t n,
                 unsigned char out[KMSI_SHA256_LEN])
{
  kmsi_sha256_finish(&iv, 0, data, n, out);
}

/* }===================================================================== */

/* {=====================================================================
 * HMAC-SHA256 (RFC 2104)
 * ===================================================================== */

#define IPAD 0x3636363636363636u
#define OPAD 0x5c5c5c5c5c5c5c5cu

/* dst[0..64) = key block src[0..64) XOR the pad byte, a word at a time. */
static void xor_pad(unsigned char *dst, const unsigned char *src,
                    uint64_t pad)
{
  size_t i;
  for (i = 0; i < KMSI_SHA256_BLOCK; i += 8) {
    uint64_t v;
    memcpy(&v, src + i, 8);
    v ^= pad;
    memcpy(dst + i, &v, 8);
  }
}

/* The key block: the key, or its hash when longer than a block, then
 * zeros. */
static void key_block(unsigned char kb[KMSI_SHA256_BLOCK], const void *key,
                      size_t klen)
{
  if (klen > KMSI_SHA256_BLOCK) {
    kmsi_sha256(key, klen, kb);
    klen = KMSI_SHA256_LEN;
  } else if (klen) {
    memcpy(kb, key, klen);
  }
  memset(kb + klen, 0, KMSI_SHA256_BLOCK - klen);
}

void kmsi_hmac_sha256_init(kmsi_hmac_key *k, const void *key, size_t klen)
{
  unsigned char kb[KMSI_SHA256_BLOCK], pad[KMSI_SHA256_BLOCK];

  key_block(kb, key, klen);
  xor_pad(pad, kb, IPAD);
  k->inner = iv;
  kmsi_sha256_blocks(&k->inner, pad, 1);
  xor_pad(pad, kb, OPAD);
  k->outer = iv;
  kmsi_sha256_blocks(&k->outer, pad, 1);
  OPENSSL_cleanse(kb, sizeof kb);
  OPENSSL_cleanse(pad, sizeof pad);
}

void kmsi_hmac_sha256_keyed(const kmsi_hmac_key *k, const void *msg,
                            size_t n, unsigned char out[KMSI_SHA256_LEN])
{
  unsigned char ih[KMSI_SHA256_LEN];

  kmsi_sha256_finish(&k->inner, KMSI_SHA256_BLOCK, msg, n, ih);
  kmsi_sha256_finish(&k->outer, KMSI_SHA256_BLOCK, ih, sizeof ih, out);
  OPENSSL_cleanse(ih, sizeof ih);
}

/* A key of at most a block and a message of at most 55 bytes: the padded
 * key block and the padded message make two blocks, hashed in one call,
 * and so do the outer key block and the inner hash. */
void kmsi_hmac_sha256(const void *key, size_t klen, const void *msg,
                      size_t n, unsigned char out[KMSI_SHA256_LEN])
{
  unsigned char kb[KMSI_SHA256_BLOCK], b[2 * KMSI_SHA256_BLOCK];
  kmsi_hmac_key hk;
  work w;

  if (klen > KMSI_SHA256_BLOCK || n > 55) {
    kmsi_hmac_sha256_init(&hk, key, klen);
    kmsi_hmac_sha256_keyed(&hk, msg, n, out);
    OPENSSL_cleanse(&hk, sizeof hk);
    return;
  }
  key_block(kb, key, klen);
  /* inner: (K ^ ipad) || msg, padded */
  xor_pad(b, kb, IPAD);
  if (n)
    memcpy(b + KMSI_SHA256_BLOCK, msg, n);
  b[KMSI_SHA256_BLOCK + n] = 0x80;
  memset(b + KMSI_SHA256_BLOCK + n + 1, 0, KMSI_SHA256_BLOCK - 9 - n);
  store_be64(b + sizeof b - 8, (KMSI_SHA256_BLOCK + (uint64_t)n) * 8);
  work_load(&w, &iv);
  work_blocks(&w, b, 2);
  /* outer: (K ^ opad) || inner hash, padded */
  work_digest(&w, b + KMSI_SHA256_BLOCK);
  xor_pad(b, kb, OPAD);
  b[KMSI_SHA256_BLOCK + KMSI_SHA256_LEN] = 0x80;
  memset(b + KMSI_SHA256_BLOCK + KMSI_SHA256_LEN + 1, 0,
         KMSI_SHA256_BLOCK - 9 - KMSI_SHA256_LEN);
  store_be64(b + sizeof b - 8,
             (KMSI_SHA256_BLOCK + (uint64_t)KMSI_SHA256_LEN) * 8);
  work_load(&w, &iv);
  work_blocks(&w, b, 2);
  work_digest(&w, out);
  OPENSSL_cleanse(kb, sizeof kb);
  OPENSSL_cleanse(b, KMSI_SHA256_BLOCK + KMSI_SHA256_LEN);
  work_wipe(&w);
}

/* }===================================================================== */
