/*
 * treegen: creates a tree of small files for the tree-size benchmark (bench/treesize.py, which computes the
 * same paths to pick the files it changes).
 *
 *   treegen DIR FILES FILES_PER_DIR DIRS_PER_DIR SIZE
 *
 * File i is DIR/d<top>/d<sub>/f<n> with leaf directory i / FILES_PER_DIR = top * DIRS_PER_DIR + sub and
 * n = i % FILES_PER_DIR; each file holds SIZE bytes that name it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void make_dir(const char *path)
{
    if (mkdir(path, 0755) < 0 && errno != EEXIST) {
        perror(path);
        exit(1);
    }
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: treegen DIR FILES FILES_PER_DIR DIRS_PER_DIR SIZE\n");
        return 2;
    }
    const char *dir = argv[1];
    long files = atol(argv[2]), per_dir = atol(argv[3]), dirs_per_dir = atol(argv[4]), size = atol(argv[5]);
    if (files < 1 || per_dir < 1 || dirs_per_dir < 1 || size < 1 || size > 1 << 20) {
        fprintf(stderr, "treegen: counts and size must be positive (size at most 1 MiB)\n");
        return 2;
    }
    char *content = malloc(size);
    char path[4096];
    make_dir(dir);
    for (long i = 0; i < files; i++) {
        long leaf = i / per_dir, top = leaf / dirs_per_dir, sub = leaf % dirs_per_dir;
        if (i % per_dir == 0) {
            if (sub == 0) {
                snprintf(path, sizeof path, "%s/d%ld", dir, top);
                make_dir(path);
            }
            snprintf(path, sizeof path, "%s/d%ld/d%ld", dir, top, sub);
            make_dir(path);
        }
        snprintf(path, sizeof path, "%s/d%ld/d%ld/f%ld", dir, top, sub, i % per_dir);
        memset(content, 'x', size);
        int head = snprintf(content, size, "treegen file %ld\n", i);
        if (head >= size)
            content[size - 1] = '\n';
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
        if (fd < 0 || write(fd, content, size) != size || close(fd) < 0) {
            perror(path);
            return 1;
        }
    }
    free(content);
    return 0;
}
