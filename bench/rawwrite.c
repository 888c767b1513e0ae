// The disk's raw rate for results frames: writes FRAMES frames of BYTES bytes each to a new
// file, in pwrite calls of BLOCK bytes (8 MiB, as `dd bs=8M`, by default) and one fsync per
// frame (what a frame made durable costs at the least), and prints the median seconds per
// frame and the rate.
//
//   rawwrite PATH BYTES FRAMES [BLOCK [RESIDENT]]
//
// The buffer is touched before timing, as a simulation's staging buffer is; RESIDENT bytes
// more (default 0) are allocated and touched first and held while it writes, as a
// simulation holds its state: on a virtual machine that returns freed memory to its host,
// every page a process touches first costs a fault, so a baseline that holds less memory
// than the program it is compared with would find more of its page cache still backed. The
// file is removed at the end.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    if (argc < 4 || argc > 6) {
        fprintf(stderr, "usage: rawwrite PATH BYTES FRAMES [BLOCK [RESIDENT]]\n");
        return 2;
    }
    size_t bytes = strtoull(argv[2], NULL, 10);
    int frames = atoi(argv[3]);
    size_t block = argc >= 5 ? strtoull(argv[4], NULL, 10) : (size_t)8 << 20;
    size_t resident = argc == 6 ? strtoull(argv[5], NULL, 10) : 0;
    char *held = resident ? malloc(resident) : NULL;
    if (resident && !held) return 2;
    for (size_t i = 0; i < resident; i += 4096) held[i] = 1;
    char *buffer = malloc(bytes);
    double *seconds = malloc(sizeof(double) * frames);
    if (!buffer || !seconds || frames < 1 || block < 1) return 2;
    for (size_t i = 0; i < bytes; i++) buffer[i] = (char)(i * 131);
    int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        perror(argv[1]);
        return 1;
    }
    for (int f = 0; f < frames; f++) {
        double start = now();
        size_t done = 0;
        while (done < bytes) {
            size_t size = bytes - done < block ? bytes - done : block;
            ssize_t n = pwrite(fd, buffer + done, size, (off_t)f * bytes + done);
            if (n <= 0) {
                perror("pwrite");
                return 1;
            }
            done += n;
        }
        if (fsync(fd) != 0) {
            perror("fsync");
            return 1;
        }
        seconds[f] = now() - start;
    }
    close(fd);
    unlink(argv[1]);
    free(held);
    qsort(seconds, frames, sizeof(double), compare);
    double median = frames % 2 ? seconds[frames / 2] : (seconds[frames / 2 - 1] + seconds[frames / 2]) / 2;
    printf("raw %zu bytes per frame, %d frames: median %.4f s per frame, %.3f GB/s\n", bytes, frames, median,
           bytes / median / 1e9);
    return 0;
}
