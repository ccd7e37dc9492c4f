/* src/io/atomic.c — atomic file writing (temp file, fsync, rename, fsync of the directory) and whole-file
 * reading, with EIO messages that name the path and strerror. */
#include "nis/io.h"
#include "io_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


nis_status nis__bad_format(char *why, size_t wl, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, wl, fmt, ap);
    va_end(ap);
    return NIS_EFORMAT;
}

static const char *errno_str(int e, char *buf, size_t size) {
    if (strerror_r(e, buf, size) != 0) snprintf(buf, size, "error %d", e);
    return buf;
}

static char *dup_str(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = nis_malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

/* Record the first failure of af: "cannot write '<path>': <what>: <strerror(e)>". */
static nis_status af_fail(nis_atomic_file *af, const char *what, int e) {
    if (af->status == NIS_OK) {
        char eb[128];
        af->status = NIS_EIO;
        nis__set_err(af->err, af->errlen, "cannot write '%s': %s: %s", af->path ? af->path : "?", what,
                errno_str(e, eb, sizeof eb));
    }
    return af->status;
}

/* Close and unlink the temp file (if any) and free af's strings. */
static void af_release(nis_atomic_file *af, bool unlink_tmp) {
    if (af->fd >= 0) close(af->fd);
    af->fd = -1;
    if (af->tmp && unlink_tmp) unlink(af->tmp);
    nis_free(af->tmp);
    nis_free(af->path);
    af->tmp = af->path = NULL;
}

nis_status nis_atomic_open(nis_atomic_file *af, const char *path, char *err, size_t errlen) {
    *af = (nis_atomic_file){.fd = -1, .status = NIS_OK, .err = err, .errlen = errlen};
    if (!path || !*path) {
        af->status = NIS_EINVAL;
        nis__set_err(err, errlen, "cannot write a file with an empty path");
        return af->status;
    }
    af->path = dup_str(path);
    size_t tlen = strlen(path) + 32;
    af->tmp = nis_malloc(tlen);
    if (!af->path || !af->tmp) {
        nis_free(af->tmp);
        af->tmp = NULL;
        af->status = NIS_ENOMEM;
        nis__set_err(err, errlen, "cannot write '%s': out of memory", path);
        return af->status;
    }
    snprintf(af->tmp, tlen, "%s.tmp.%ld", path, (long)getpid());
    do af->fd = open(af->tmp, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
    while (af->fd < 0 && errno == EINTR);
    if (af->fd < 0) {
        int e = errno;
        nis_free(af->tmp);   /* not ours: never unlink a temp file we did not create */
        af->tmp = NULL;
        return af_fail(af, "cannot create temporary file", e);
    }
    return NIS_OK;
}

nis_status nis_atomic_write(nis_atomic_file *af, const void *data, size_t n) {
    if (af->status != NIS_OK) return af->status;
    const char *p = data;
    while (n > 0) {
        size_t chunk = n < ((size_t)1 << 30) ? n : ((size_t)1 << 30);
        ssize_t w = write(af->fd, p, chunk);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return af_fail(af, "write failed", errno);
        if (w == 0) return af_fail(af, "write made no progress", ENOSPC);
        p += w;
        n -= (size_t)w;
    }
    return NIS_OK;
}

/* fsync the directory holding path (our own copy, cut at its last '/' for the moment), so the rename itself
 * is durable.  Filesystems that cannot sync a directory (EINVAL) are accepted.  Returns 0 or an errno. */
static int sync_dir(char *path) {
    char *slash = strrchr(path, '/');
    const char *dir = ".";
    if (slash == path) dir = "/";
    else if (slash) *slash = '\0', dir = path;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int e = fd < 0 ? errno : 0;
    if (slash && slash != path) *slash = '/';
    if (fd < 0) return e;
    int r;
    do r = fsync(fd);
    while (r != 0 && errno == EINTR);
    if (r != 0 && errno != EINVAL) e = errno;
    close(fd);
    return e;
}

/* Remove the temp files "<path>.tmp.<pid>" that killed writers left beside path: those whose process no longer
 * exists (kill(pid, 0) says ESRCH; a live or unknown process's file is left alone).  Best effort, silent. */
static void sweep_stale(const char *path) {
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    char dir[4096], prefix[1024];
    if (slash) snprintf(dir, sizeof dir, "%.*s", slash == path ? 1 : (int)(slash - path), path);
    else snprintf(dir, sizeof dir, ".");
    int np = snprintf(prefix, sizeof prefix, "%s.tmp.", base);
    if (np <= 0 || (size_t)np >= sizeof prefix) return;
    DIR *d = opendir(dir);
    if (!d) return;
    for (struct dirent *e; (e = readdir(d));) {
        if (strncmp(e->d_name, prefix, (size_t)np) != 0) continue;
        const char *digits = e->d_name + np;
        char *end;
        errno = 0;
        long pid = strtol(digits, &end, 10);
        if (errno || end == digits || *end || pid <= 0 || pid == (long)getpid()) continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;
        char stale[8192];
        if ((size_t)snprintf(stale, sizeof stale, "%s/%s", dir, e->d_name) < sizeof stale) unlink(stale);
    }
    closedir(d);
}

nis_status nis_atomic_commit(nis_atomic_file *af) {
    if (af->status == NIS_OK) {
        int r;
        do r = fsync(af->fd);
        while (r != 0 && errno == EINTR);
        if (r != 0) af_fail(af, "fsync failed", errno);
    }
    if (af->status == NIS_OK) {
        int fd = af->fd;
        af->fd = -1;
        if (close(fd) != 0) af_fail(af, "close failed", errno);
    }
    if (af->status == NIS_OK && rename(af->tmp, af->path) != 0) af_fail(af, "rename failed", errno);
    if (af->status != NIS_OK) {
        af_release(af, true);
        return af->status;
    }
    /* The new file is in place; a failing directory sync is still reported (it may not survive a crash). */
    int e = sync_dir(af->path);
    if (e) af_fail(af, "fsync of the directory failed", e);
    sweep_stale(af->path);
    af_release(af, false);
    return af->status;
}

void nis_atomic_abort(nis_atomic_file *af) { af_release(af, true); }

nis_status nis_write_file_atomic(const char *path, const void *data, size_t n, char *err, size_t errlen) {
    nis_atomic_file af;
    nis_atomic_open(&af, path, err, errlen);
    nis_atomic_write(&af, data, n);
    return nis_atomic_commit(&af);
}

/* Read bytes [*got, to) of fd into buf (allocated; NULL: out of memory), advancing *got.  NIS_OK, NIS_ENOMEM or
 * NIS_EIO with a message naming path. */
static nis_status read_range(int fd, const char *path, char *buf, size_t *got, size_t to, char *err, size_t errlen) {
    char eb[128];
    if (!buf) {
        nis__set_err(err, errlen, "cannot read '%s': out of memory (%zu bytes)", path, to);
        return NIS_ENOMEM;
    }
    while (*got < to) {
        size_t chunk = to - *got < ((size_t)1 << 30) ? to - *got : ((size_t)1 << 30);
        ssize_t r = read(fd, buf + *got, chunk);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            nis__set_err(err, errlen, "cannot read '%s': %s", path, errno_str(errno, eb, sizeof eb));
            return NIS_EIO;
        }
        if (r == 0) {
            nis__set_err(err, errlen, "cannot read '%s': file shrank while reading", path);
            return NIS_EIO;
        }
        *got += (size_t)r;
    }
    return NIS_OK;
}

nis_status nis_read_file(const char *path, void **data, size_t *size, char *err, size_t errlen) {
    return nis__read_file_head(path, data, size, NULL, NULL, err, errlen);
}

nis_status nis__read_file_head(const char *path, void **data, size_t *size, nis__head_check check, void *ud,
                               char *err, size_t errlen) {
    *data = NULL;
    *size = 0;
    char eb[128];
    int fd;
    do fd = open(path, O_RDONLY | O_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        nis__set_err(err, errlen, "cannot open '%s': %s", path, errno_str(errno, eb, sizeof eb));
        return NIS_EIO;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        nis__set_err(err, errlen, "cannot stat '%s': %s", path, errno_str(errno, eb, sizeof eb));
        close(fd);
        return NIS_EIO;
    }
    if (!S_ISREG(st.st_mode)) {
        nis__set_err(err, errlen, "cannot read '%s': not a regular file", path);
        close(fd);
        return NIS_EIO;
    }
    if ((uint64_t)st.st_size >= SIZE_MAX) {
        nis__set_err(err, errlen, "cannot read '%s': file too large", path);
        close(fd);
        return NIS_ENOMEM;
    }
    size_t n = (size_t)st.st_size, head = check && n > NIS__HEAD ? NIS__HEAD : n;
    /* with a check, the buffer holds the head first and grows to the whole file once the head has passed */
    char *buf = nis_malloc(head + 1);
    size_t got = 0;
    nis_status rs = read_range(fd, path, buf, &got, head, err, errlen);
    if (rs == NIS_OK && check) rs = check(buf, head, n, ud, err, errlen);
    if (rs == NIS_OK && head < n) {
        char *b = nis_realloc(buf, n + 1);
        if (!b) nis__set_err(err, errlen, "cannot read '%s': out of memory (%zu bytes)", path, n), rs = NIS_ENOMEM;
        else buf = b, rs = read_range(fd, path, buf, &got, n, err, errlen);
    }
    close(fd);
    if (rs != NIS_OK) {
        nis_free(buf);
        return rs;
    }
    buf[n] = '\0';
    *data = buf;
    *size = n;
    return NIS_OK;
}
