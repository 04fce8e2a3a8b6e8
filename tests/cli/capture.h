/* capture.h - for the CLI's unit tests: runs a call with stderr (or
 * stdout) redirected to a temporary file and hands back what it wrote.
 * Header-only; the tests are single-threaded. */
#ifndef KMSCKS_TEST_CAPTURE_H
#define KMSCKS_TEST_CAPTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Starts capturing fd (1 or 2); returns the saved descriptor. */
static int capture_begin(int fd, FILE **tmp)
{
  int saved;

  fflush(fd == 1 ? stdout : stderr);
  *tmp = tmpfile();
  saved = dup(fd);
  dup2(fileno(*tmp), fd);
  return saved;
}

/* Stops capturing; returns the text (malloc'd, NUL-terminated). */
static char *capture_end(int fd, int saved, FILE *tmp)
{
  long n;
  char *text;

  fflush(fd == 1 ? stdout : stderr);
  dup2(saved, fd);
  close(saved);
  n = ftell(tmp);
  text = calloc(1, (size_t)(n > 0 ? n : 0) + 1);
  rewind(tmp);
  if (n > 0 && fread(text, 1, (size_t)n, tmp) != (size_t)n)
    text[0] = '\0';
  fclose(tmp);
  return text;
}

#endif
