/*
 * Workload generator for bench/run.sh: builds each workload's starting tree, runs the workload as fast as
 * the kernel allows, and compares two trees. Compiled by run.sh with gcc; not part of the Maven build.
 *
 *   gen setup W ROOT OUTSIDE EXPECTED   starting tree for workload W (1..6); EXPECTED gets the paths the
 *                                       workload changes, relative to ROOT, NUL-separated
 *   gen run W ROOT OUTSIDE              runs workload W; prints "START_NS END_NS" (CLOCK_REALTIME)
 *   gen tree ROOT DIRS                  DIRS empty directories, 1,000 per parent (the watch-setup trees)
 *   gen compare SRC DST                 prints the number of entries that differ (type, size, mtime in ns,
 *                                       presence); exit 0 when none
 *   gen watch SRC DST                   polls until DST equals SRC (by the same rules): for each line read on
 *                                       stdin prints a lower bound of the entries that still differ, 0 only
 *                                       after a whole walk found none
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char CONTENT[] = "changeq-bench-16";

static void die(const char *what, const char *path) {
    fprintf(stderr, "gen: %s %s: %s\n", what, path, strerror(errno));
    exit(2);
}

static void make_dir(const char *path) {
    if (mkdir(path, 0755) != 0 && errno != EEXIST) die("mkdir", path);
}

static void write_file(const char *path, int truncate) {
    int fd = open(path, O_WRONLY | O_CREAT | (truncate ? O_TRUNC : 0), 0644);
    if (fd < 0) die("open", path);
    if (write(fd, CONTENT, sizeof CONTENT - 1) != (ssize_t) (sizeof CONTENT - 1)) die("write", path);
    if (close(fd) != 0) die("close", path);
}

static long long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (long long) t.tv_sec * 1000000000LL + t.tv_nsec;
}

static FILE *expected;

static void expect(const char *relative) {
    if (expected) fwrite(relative, 1, strlen(relative) + 1, expected);
}

/* Paths relative to the root; the workloads chdir into it so each syscall takes a short relative path. */
static void setup(int w, const char *outside) {
    char p[4200];
    switch (w) {
    case 1:
        make_dir("w1");
        for (int d = 0; d < 1000; d++) { snprintf(p, sizeof p, "w1/d%04d", d); make_dir(p); }
        for (int i = 0; i < 200000; i++) { snprintf(p, sizeof p, "w1/d%04d/f%06d", i % 1000, i); expect(p); }
        break;
    case 2:
        make_dir("w2");
        for (int d = 0; d < 100; d++) { snprintf(p, sizeof p, "w2/d%02d", d); make_dir(p); }
        for (int i = 0; i < 10000; i++) {
            snprintf(p, sizeof p, "w2/d%02d/f%05d", i % 100, i); write_file(p, 1); expect(p);
        }
        break;
    case 3:
        make_dir("w3");
        for (int d = 0; d < 5000; d++) {
            snprintf(p, sizeof p, "w3/n%04d", d); expect(p);
            for (int f = 0; f < 20; f++) { snprintf(p, sizeof p, "w3/n%04d/f%02d", d, f); expect(p); }
        }
        break;
    case 4:
        make_dir("w4"); make_dir("w4/src");
        for (int i = 0; i < 10000; i++) { snprintf(p, sizeof p, "w4/src/f%05d", i); write_file(p, 1); }
        expect("w4/src");
        for (int i = 0; i < 10000; i++) { snprintf(p, sizeof p, "w4/dst/f%05d", i); expect(p); }
        break;
    case 5:
        make_dir("w5");
        for (int d = 0; d < 50; d++) { snprintf(p, sizeof p, "w5/d%02d", d); make_dir(p); }
        for (int i = 0; i < 50000; i++) {
            snprintf(p, sizeof p, "w5/d%02d/f%05d", i % 50, i); write_file(p, 1); expect(p);
        }
        break;
    case 6:
        make_dir("w6");
        snprintf(p, sizeof p, "%s/w6in", outside); make_dir(p);
        for (int i = 0; i < 10000; i++) { snprintf(p, sizeof p, "%s/w6in/f%05d", outside, i); write_file(p, 1); }
        for (int i = 0; i < 10000; i++) { snprintf(p, sizeof p, "w6/in/f%05d", i); expect(p); }
        break;
    }
}

static void run(int w, const char *outside) {
    char p[4200];
    switch (w) {
    case 1:
        for (int i = 0; i < 200000; i++) { snprintf(p, sizeof p, "w1/d%04d/f%06d", i % 1000, i); write_file(p, 0); }
        break;
    case 2:
        for (int round = 0; round < 20; round++)
            for (int i = 0; i < 10000; i++) { snprintf(p, sizeof p, "w2/d%02d/f%05d", i % 100, i); write_file(p, 1); }
        break;
    case 3:
        for (int d = 0; d < 5000; d++) {
            snprintf(p, sizeof p, "w3/n%04d", d); make_dir(p);
            for (int f = 0; f < 20; f++) { snprintf(p, sizeof p, "w3/n%04d/f%02d", d, f); write_file(p, 0); }
        }
        break;
    case 4:
        if (rename("w4/src", "w4/dst") != 0) die("rename", "w4/src");
        break;
    case 5:
        for (int i = 0; i < 50000; i++) {
            snprintf(p, sizeof p, "w5/d%02d/f%05d", i % 50, i);
            if (unlink(p) != 0) die("unlink", p);
        }
        break;
    case 6:
        snprintf(p, sizeof p, "%s/w6in", outside);
        if (rename(p, "w6/in") != 0) die("rename", p);
        break;
    }
}

static long differences;

static int entry_equal(const struct stat *a, const struct stat *b) {
    if ((a->st_mode & S_IFMT) != (b->st_mode & S_IFMT)) return 0;
    if (S_ISDIR(a->st_mode)) return 1;
    return a->st_size == b->st_size && a->st_mtim.tv_sec == b->st_mtim.tv_sec
        && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* Walks SRC: every entry must exist in DST and be equal; entries only in DST are counted on the way too. */
static void compare(const char *src, const char *dst) {
    DIR *d = opendir(src);
    if (!d) { differences++; return; }
    long here = 0;
    struct dirent *e;
    char s[4096], t[4096];
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        here++;
        snprintf(s, sizeof s, "%s/%s", src, e->d_name);
        snprintf(t, sizeof t, "%s/%s", dst, e->d_name);
        struct stat a, b;
        if (lstat(s, &a) != 0) continue; /* vanished while walking */
        if (lstat(t, &b) != 0 || !entry_equal(&a, &b)) { differences++; if (!S_ISDIR(a.st_mode)) continue; }
        if (S_ISDIR(a.st_mode)) compare(s, t);
    }
    closedir(d);
    DIR *other = opendir(dst);
    if (!other) return;
    long there = 0;
    while ((e = readdir(other))) if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) there++;
    closedir(other);
    if (there > here) differences += there - here;
}

/*
 * gen watch: a whole walk of a 200,000-file tree costs ~0.6 s of CPU, too much to repeat every 100 ms beside
 * the tool being measured. So one walk lists what differs, and each poll re-checks that list in order,
 * stopping at the first entry still different: every entry is checked until it is resolved, then never again.
 * A directory missing at the destination is one entry; once it is there its subtree is walked for the list.
 * Only when the list is empty does another whole walk confirm that nothing else differs.
 */
struct pending { char *path; int extra_only; }; /* extra_only: a directory whose DST holds more entries */
static struct pending *list;
static size_t list_len, list_cap, list_pos;
static const char *watch_src, *watch_dst;

static void add_pending(const char *relative, int extra_only) {
    if (list_len == list_cap) {
        list_cap = list_cap ? 2 * list_cap : 1024;
        list = realloc(list, list_cap * sizeof *list);
        if (!list) die("realloc", relative);
    }
    list[list_len].path = strdup(relative);
    list[list_len++].extra_only = extra_only;
}

static long count_entries(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    long n = 0;
    struct dirent *e;
    while ((e = readdir(d))) if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    closedir(d);
    return n;
}

/* Lists what differs below RELATIVE (a directory present on both sides); "" is the root. */
static void list_differences(const char *relative) {
    char s[4096], t[4096], r[2048];
    snprintf(s, sizeof s, "%s/%s", watch_src, relative);
    DIR *d = opendir(s);
    if (!d) return; /* vanished */
    long here = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        here++;
        snprintf(r, sizeof r, "%s%s%s", relative, *relative ? "/" : "", e->d_name);
        snprintf(s, sizeof s, "%s/%s", watch_src, r);
        snprintf(t, sizeof t, "%s/%s", watch_dst, r);
        struct stat a, b;
        if (lstat(s, &a) != 0) continue;
        if (lstat(t, &b) != 0 || !entry_equal(&a, &b)) add_pending(r, 0);
        else if (S_ISDIR(a.st_mode)) list_differences(r);
    }
    closedir(d);
    snprintf(t, sizeof t, "%s/%s", watch_dst, relative);
    if (count_entries(t) > here) add_pending(relative, 1);
}

static int resolved(const struct pending *p) {
    char s[4096], t[4096];
    snprintf(s, sizeof s, "%s/%s", watch_src, p->path);
    snprintf(t, sizeof t, "%s/%s", watch_dst, p->path);
    if (p->extra_only) return count_entries(t) <= count_entries(s);
    struct stat a, b;
    if (lstat(s, &a) != 0) return 1;
    if (lstat(t, &b) != 0 || !entry_equal(&a, &b)) return 0;
    if (S_ISDIR(a.st_mode)) list_differences(p->path);
    return 1;
}

static void watch(void) {
    char line[64];
    while (fgets(line, sizeof line, stdin)) {
        while (list_pos < list_len && resolved(&list[list_pos])) free(list[list_pos++].path);
        if (list_pos == list_len) {
            list_len = list_pos = 0;
            list_differences("");
        }
        printf("%zu\n", list_len - list_pos);
        fflush(stdout);
    }
}

static void tree(int dirs) {
    char p[64];
    for (int i = 0; i < dirs; i++) {
        if (i % 1000 == 0) { snprintf(p, sizeof p, "a%03d", i / 1000); make_dir(p); }
        snprintf(p, sizeof p, "a%03d/b%04d", i / 1000, i % 1000);
        make_dir(p);
    }
}

int main(int argc, char **argv) {
    if (argc >= 4 && !strcmp(argv[1], "compare")) {
        compare(argv[2], argv[3]);
        printf("%ld\n", differences);
        return differences == 0 ? 0 : 1;
    }
    if (argc >= 4 && !strcmp(argv[1], "watch")) {
        watch_src = argv[2];
        watch_dst = argv[3];
        watch();
        return 0;
    }
    if (argc >= 4 && !strcmp(argv[1], "tree")) {
        if (chdir(argv[2]) != 0) die("chdir", argv[2]);
        tree(atoi(argv[3]));
        return 0;
    }
    if (argc >= 5 && (!strcmp(argv[1], "setup") || !strcmp(argv[1], "run"))) {
        int w = atoi(argv[2]);
        char outside[4096];
        if (!realpath(argv[4], outside)) die("realpath", argv[4]);
        if (chdir(argv[3]) != 0) die("chdir", argv[3]);
        if (!strcmp(argv[1], "setup")) {
            if (argc < 6) { fprintf(stderr, "gen setup W ROOT OUTSIDE EXPECTED\n"); return 2; }
            expected = fopen(argv[5], "w");
            if (!expected) die("fopen", argv[5]);
            setup(w, outside);
            if (fclose(expected) != 0) die("fclose", argv[5]);
        } else {
            long long start = now_ns();
            run(w, outside);
            long long end = now_ns();
            printf("%lld %lld\n", start, end);
        }
        return 0;
    }
    fprintf(stderr, "usage: gen setup|run W ROOT OUTSIDE [EXPECTED] | gen tree ROOT DIRS | gen compare|watch SRC DST\n");
    return 2;
}
