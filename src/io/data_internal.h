/* src/io/data_internal.h — helpers shared by the dataset loaders (private). */
#ifndef NIS_SRC_IO_DATA_INTERNAL_H
#define NIS_SRC_IO_DATA_INTERNAL_H

#include "nis/data.h"

#include <stddef.h>

/* Walks a file's bytes line by line; [ls, le) is the current line without '\n' / "\r\n"; line is 1-based. */
typedef struct {
    const char *p, *end;    /* next unread byte, end of the buffer */
    const char *ls, *le;    /* current line */
    int line;
} nis__lines;

void nis__lines_init(nis__lines *L, const char *buf, size_t len);
/* A format's parser: the lines L of path's bytes (its own walker) -> *out (zeroed on entry); opts is never
 * NULL.  On failure it frees what it allocated, writes err (errlen bytes) and returns the status. */
typedef nis_status (*nis__data_parser)(nis__lines L, const char *path, const nis_data_opts *opts,
                                       nis_dataset *out, char *err, size_t errlen);
/* The body of every loader: opts NULL means all-zero options, *out is zeroed, path is read whole and its
 * lines given to parse, then the bytes are freed.  Returns nis_read_file's status, else parse's. */
nis_status nis__data_load(const char *path, const nis_data_opts *opts, nis_dataset *out, char *err, size_t errlen,
                          nis__data_parser parse);
/* Advance to the next line; false at the end of the buffer. */
bool nis__lines_next(nis__lines *L);
/* True if [s, e) holds only spaces and tabs. */
bool nis__blank(const char *s, const char *e);
/* Trim spaces and tabs from both ends of [*s, *e). */
void nis__trim(const char **s, const char **e);

/* "path:line:col: message" into err; returns NIS_EFORMAT. */
nis_status nis__data_fail(char *err, size_t errlen, const char *path, int line, long col, const char *fmt,
                          ...) __attribute__((format(printf, 6, 7)));

/* Parse [s, e) (already trimmed) as a number a float holds (|x| <= FLT_MAX); false if it is not one. */
bool nis__parse_num(const char *s, const char *e, double *v);
/* A missing value: empty or "?". */
bool nis__is_missing(const char *s, const char *e);
/* nis_malloc'd NUL-terminated copy of [s, e); NULL if out of memory. */
char *nis__strndup(const char *s, size_t n);

/* A growable float array (nis_realloc); free v with nis_free. */
typedef struct {
    float *v;
    size_t n, cap;
} nis__fvec;
bool nis__fvec_push(nis__fvec *a, float x);

/* Map a label value to {0, 1} for CSV / LIBSVM: with `positive`, text equal to it -> 1, else 0 (a numeric
 * positive also matches numerically equal text, e.g. "+1" and "1"); without it, 0/1 (and -1/+1 if
 * allow_pm1).  False if the value is not a valid label. */
bool nis__label_value(const char *s, const char *e, const char *positive, bool allow_pm1, float *y);

/* Fail with NIS_EINVAL ("path:line:col: positive class 'P' does not occur") if a positive class was named
 * but none of the n labels is 1. */
nis_status nis__check_positive(const char *positive, const float *y, int64_t n, char *err, size_t errlen,
                               const char *path, int line, long col);

/* Move the given arrays into *out as a dataset (rows n, columns d); on success the dataset owns them. */
void nis__dataset_take(nis_dataset *out, int64_t n, int64_t d, float *X, float *y, char **names);
/* Free names[0..d) and the array. */
void nis__free_names(char **names, int64_t d);
/* The column a label option names among n columns: the first whose name_of(ctx, i) equals label (name_of may
 * be NULL: no names), else label read as an integer index (negative counts from the end); NULL label: the
 * last column.  -1 if there is none. */
int nis__column_index(const char *label, int n, const char *(*name_of)(const void *ctx, int i), const void *ctx);

#endif
