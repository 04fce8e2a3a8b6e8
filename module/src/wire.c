/* wire.c - the request's header block as it goes on the wire, shared by
 * both transports: the message's headers in the AWS CLI's order plus the
 * ones an HTTP client adds (Accept-Encoding, User-Agent, Content-Length),
 * so that libcurl and the native transport put the same bytes out. */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "internal.h"

/* Positions of the headers in the AWS CLI's order (awscli-behaviour §2);
 * -1 for any other. */
static int header_rank(const char *name)
{
  static const char *const order[] = {
    "Host", "Accept-Encoding", "X-Amz-Target", "Content-Type",
    "User-Agent", "X-Amz-Date", "X-Amz-Security-Token", "Authorization",
    "Content-Length"};
  size_t i;
  for (i = 0; i < sizeof order / sizeof order[0]; i++)
    if (strcasecmp(order[i], name) == 0)
      return (int)i;
  return -1;
}

/* Appends one header to w with its rank. */
static void wire_push(kmsi_wire_headers *w, int *ranks, const char *name,
                      const char *value, int rank)
{
  w->name[w->n] = name;
  w->value[w->n] = value;
  ranks[w->n++] = rank;
}

/* The message's headers sorted by header_rank (stably; a header of
 * another name keeps its place after the one it followed), plus
 * Accept-Encoding: identity, User-Agent and (for a method with a body)
 * Content-Length when the message lacks them. Names and values are
 * borrowed from req (Content-Length's from w->num). More than
 * KMSI_WIRE_MAX_HEADERS headers: KMS_ERR_INVALID_ARG. */
kms_status kmsi_wire_headers_order(const kms_http *req, int has_body,
                                   size_t body_len, kmsi_wire_headers *w)
{
  const char *names[KMSI_WIRE_MAX_HEADERS + 3], *values[KMSI_WIRE_MAX_HEADERS + 3];
  int ranks[KMSI_WIRE_MAX_HEADERS + 3];
  size_t i, j, n, count = kms_http_header_count(req);
  int prev = 0, r, have_ae = 0, have_ua = 0, have_cl = 0;

  w->n = 0;
  if (count > KMSI_WIRE_MAX_HEADERS)
    return KMS_ERR_INVALID_ARG;
  for (i = 0; i < count; i++) {
    const char *hn, *hv;
    if (!kms_http_header_at(req, i, &hn, &hv))
      break;
    r = header_rank(hn);
    have_ae |= r == 1;
    have_ua |= r == 4;
    have_cl |= r == 8;
    wire_push(w, ranks, hn, hv, r < 0 ? prev : r);
    prev = ranks[w->n - 1];
  }
  if (!have_ae)
    wire_push(w, ranks, "Accept-Encoding", "identity", 1);
  if (!have_ua)
    wire_push(w, ranks, "User-Agent", "kmscks/" KMS_VERSION_STRING, 4);
  if (has_body && !have_cl) {
    snprintf(w->num, sizeof w->num, "%zu", body_len);
    wire_push(w, ranks, "Content-Length", w->num, 8);
  }
  n = w->n;
  memcpy(names, w->name, n * sizeof names[0]);
  memcpy(values, w->value, n * sizeof values[0]);
  for (i = 0; i < n; i++) {
    /* The next header: the first unplaced one of the lowest rank. */
    size_t best = n;
    for (j = 0; j < n; j++)
      if (names[j] && (best == n || ranks[j] < ranks[best]))
        best = j;
    w->name[i] = names[best];
    w->value[i] = values[best];
    names[best] = NULL;
  }
  return KMS_OK;
}
