/*
 * creader: the floor for a recursive inotify tracker's memory, for bench/footprint.py. It watches every
 * directory under ROOT, keeps one malloc'd path per watch (indexed by watch descriptor), watches new
 * directories as they appear (without listing them: no rescan, no dedupe, no queue), and writes each event's
 * path NUL-terminated to stdout through stdio's buffer. It says "ready N" on stderr once N directories are
 * watched.
 *
 *   creader ROOT > events
 */
#define _GNU_SOURCE
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#define MASK (IN_CREATE | IN_CLOSE_WRITE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_ATTRIB | IN_DELETE_SELF \
              | IN_ONLYDIR)

static int fd;
static char **paths;
static size_t capacity;
static long watched;

static void die(const char *what, const char *path)
{
    fprintf(stderr, "creader: %s %s: %s\n", what, path, strerror(errno));
    exit(1);
}

static void watch(const char *path)
{
    int wd = inotify_add_watch(fd, path, MASK);
    if (wd < 0) {
        if (errno == ENOENT || errno == ENOTDIR) return;
        die("inotify_add_watch", path);
    }
    if ((size_t)wd >= capacity) {
        size_t grown = capacity ? capacity * 2 : 1024;
        while (grown <= (size_t)wd) grown *= 2;
        paths = realloc(paths, grown * sizeof *paths);
        if (!paths) die("realloc", path);
        memset(paths + capacity, 0, (grown - capacity) * sizeof *paths);
        capacity = grown;
    }
    free(paths[wd]);
    paths[wd] = strdup(path);
    watched++;
}

static int visit(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (type == FTW_D) watch(path);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: creader ROOT\n");
        return 2;
    }
    fd = inotify_init1(IN_CLOEXEC);
    if (fd < 0) die("inotify_init1", "");
    if (nftw(argv[1], visit, 64, FTW_PHYS) != 0) die("nftw", argv[1]);
    fprintf(stderr, "ready %ld\n", watched);
    char buffer[65536] __attribute__((aligned(__alignof__(struct inotify_event))));
    char path[8192];
    for (;;) {
        ssize_t n = read(fd, buffer, sizeof buffer);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("read", argv[1]);
        }
        for (char *p = buffer; p < buffer + n;) {
            struct inotify_event *e = (struct inotify_event *)p;
            p += sizeof *e + e->len;
            if (e->mask & IN_Q_OVERFLOW) {
                fputs("OVERFLOW", stdout);
                putchar(0);
                continue;
            }
            if (e->wd < 0 || (size_t)e->wd >= capacity || !paths[e->wd]) continue;
            if (e->mask & IN_IGNORED) {
                free(paths[e->wd]);
                paths[e->wd] = NULL;
                continue;
            }
            snprintf(path, sizeof path, "%s/%s", paths[e->wd], e->len ? e->name : "");
            fputs(path, stdout);
            putchar(0);
            if ((e->mask & (IN_CREATE | IN_MOVED_TO)) && (e->mask & IN_ISDIR)) watch(path);
        }
        fflush(stdout);
    }
}
