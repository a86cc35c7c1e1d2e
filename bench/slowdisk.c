/*
 * slowdisk: a FUSE file system exposing an image file as a disk with a disk's read latency, so a loop device over
 * it behaves like a spinning disk (no device-mapper delay target is needed).
 *
 *   slowdisk [--latency-us=N] [--mb-per-s=N] MOUNTPOINT IMAGE
 *
 * MOUNTPOINT/disk is IMAGE, with one arm: requests are served one at a time in the order the kernel sent them
 * (single-threaded), and a read that does not start where the previous one ended pays the positioning latency
 * (seek and rotation) before the transfer time at the given rate; a read continuing the previous one pays the
 * transfer only, as a disk streaming a track does. Writes go straight to the image without delay: the
 * benchmarks time reads. Run one instance per disk.
 *
 * MOUNTPOINT/latency_us can be written to change the latency while mounted (0 for untimed preparation);
 * MOUNTPOINT/stats shows: reads, positioned reads, bytes read, seconds spent waiting.
 * Runs in the foreground; SIGTERM unmounts. The disk is opened with direct I/O, so nothing is cached twice.
 *
 * Build: gcc -O2 -Wall -o slowdisk slowdisk.c $(pkg-config --cflags --libs fuse3)
 */
#define FUSE_USE_VERSION 35
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DISK_FILE "disk"
#define LATENCY_FILE "latency_us"
#define STATS_FILE "stats"

static int image_fd;
static long latency_ns = 4000000;
static long bytes_per_s = 150L * 1000 * 1000;
static off_t head = -1;
static long reads, positioned, bytes;
static double waited_s;

static int is_file(const char *path, const char *name)
{
    return path[0] == '/' && strcmp(path + 1, name) == 0;
}

static void wait_ns(long ns)
{
    struct timespec t = {ns / 1000000000L, ns % 1000000000L};
    while (clock_nanosleep(CLOCK_MONOTONIC, 0, &t, &t) == EINTR)
        ;
}

static int sd_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
    (void)fi;
    memset(st, 0, sizeof *st);
    if (strcmp(path, "/") == 0) {
        st->st_mode = S_IFDIR | 0755;
        st->st_nlink = 2;
        return 0;
    }
    if (is_file(path, DISK_FILE)) {
        struct stat image;
        if (fstat(image_fd, &image) < 0)
            return -errno;
        st->st_mode = S_IFREG | 0600;
        st->st_nlink = 1;
        st->st_size = image.st_size;
        st->st_blocks = image.st_blocks;
        st->st_mtim = image.st_mtim;
        return 0;
    }
    if (is_file(path, LATENCY_FILE) || is_file(path, STATS_FILE)) {
        st->st_mode = S_IFREG | (is_file(path, LATENCY_FILE) ? 0644 : 0444);
        st->st_nlink = 1;
        return 0;
    }
    return -ENOENT;
}

static int sd_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off, struct fuse_file_info *fi,
                      enum fuse_readdir_flags flags)
{
    (void)off;
    (void)fi;
    (void)flags;
    if (strcmp(path, "/") != 0)
        return -ENOENT;
    const char *names[] = {".", "..", DISK_FILE, LATENCY_FILE, STATS_FILE};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        fill(buf, names[i], NULL, 0, 0);
    return 0;
}

static int sd_open(const char *path, struct fuse_file_info *fi)
{
    if (!is_file(path, DISK_FILE) && !is_file(path, LATENCY_FILE) && !is_file(path, STATS_FILE))
        return -ENOENT;
    fi->direct_io = 1;
    return 0;
}

static int sd_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
    (void)fi;
    if (!is_file(path, DISK_FILE)) {
        char text[256];
        int n = is_file(path, LATENCY_FILE)
                    ? snprintf(text, sizeof text, "%ld\n", latency_ns / 1000)
                    : snprintf(text, sizeof text, "reads %ld\npositioned %ld\nbytes %ld\nwaited_s %.3f\n", reads,
                               positioned, bytes, waited_s);
        if (off >= n)
            return 0;
        if ((size_t)(n - off) < size)
            size = n - off;
        memcpy(buf, text + off, size);
        return size;
    }
    int seek = off != head;
    if (latency_ns > 0) {
        long cost = (seek ? latency_ns : 0) + (long)((double)size * 1e9 / bytes_per_s);
        wait_ns(cost);
        waited_s += cost / 1e9;
    }
    ssize_t n = pread(image_fd, buf, size, off);
    if (n < 0)
        return -errno;
    head = off + n;
    reads++;
    positioned += seek;
    bytes += n;
    return n;
}

static int sd_write(const char *path, const char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
    (void)fi;
    if (is_file(path, DISK_FILE)) {
        ssize_t n = pwrite(image_fd, buf, size, off);
        return n < 0 ? -errno : n;
    }
    if (!is_file(path, LATENCY_FILE))
        return -EACCES;
    char text[32];
    size_t len = size < sizeof text - 1 ? size : sizeof text - 1;
    memcpy(text, buf, len);
    text[len] = 0;
    char *end;
    long us = strtol(text, &end, 10);
    if (end == text || us < 0)
        return -EINVAL;
    latency_ns = us * 1000;
    return size;
}

static int sd_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
    (void)size;
    (void)fi;
    return is_file(path, LATENCY_FILE) ? 0 : -EACCES;
}

static int sd_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
    (void)datasync;
    (void)fi;
    return is_file(path, DISK_FILE) && fdatasync(image_fd) < 0 ? -errno : 0;
}

static const struct fuse_operations operations = {
    .getattr = sd_getattr,
    .readdir = sd_readdir,
    .open = sd_open,
    .read = sd_read,
    .write = sd_write,
    .truncate = sd_truncate,
    .fsync = sd_fsync,
};

static void usage(void)
{
    fprintf(stderr, "usage: slowdisk [--latency-us=N] [--mb-per-s=N] MOUNTPOINT IMAGE\n");
    exit(2);
}

int main(int argc, char **argv)
{
    int i = 1;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        if (strncmp(argv[i], "--latency-us=", 13) == 0)
            latency_ns = atol(argv[i] + 13) * 1000;
        else if (strncmp(argv[i], "--mb-per-s=", 11) == 0)
            bytes_per_s = atol(argv[i] + 11) * 1000 * 1000;
        else
            usage();
    }
    if (argc - i != 2 || bytes_per_s <= 0 || latency_ns < 0)
        usage();
    image_fd = open(argv[i + 1], O_RDWR);
    if (image_fd < 0) {
        perror(argv[i + 1]);
        return 1;
    }
    /* Single-threaded: one request at a time, in arrival order, like one disk arm. */
    char *fuse_argv[] = {argv[0], "-f", "-s", "-o", "fsname=slowdisk", argv[i], NULL};
    return fuse_main(6, fuse_argv, &operations, NULL);
}
