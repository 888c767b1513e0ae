/* The heat update of Tessera's Heat model in plain C, for bench/run.sh.
 *
 *   heat N STEPS REPEATS   cell updates per second of the 7-point stencil on an N^3 block
 *                          with one ghost layer, as HeatKernel.apply does it;
 *   copy N STEPS REPEATS   elements per second of out[i] = in[i] over the same arrays: the
 *                          memory-bandwidth bound for the stencil, which streams one array
 *                          in and one out (neighbours come from cache).
 *
 * Same layout (C order, last axis contiguous), same arithmetic in the same order, so both
 * compilers see the same problem. Prints one number: the best rate over REPEATS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static void heat(const double *restrict u, double *restrict out, long n, long s0, long s1,
                 double c0, double c1, double c2) {
    for (long i = 1; i <= n; i++)
        for (long j = 1; j <= n; j++) {
            long start = i * s0 + j * s1 + 1;
            for (long k = start; k < start + n; k++) {
                double center = u[k];
                out[k] = center + c0 * (u[k - s0] - 2 * center + u[k + s0])
                         + c1 * (u[k - s1] - 2 * center + u[k + s1])
                         + c2 * (u[k - 1] - 2 * center + u[k + 1]);
            }
        }
}

static void copy(const double *restrict u, double *restrict out, long count) {
    for (long k = 0; k < count; k++) out[k] = u[k];
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: %s heat|copy N STEPS REPEATS\n", argv[0]);
        return 2;
    }
    int isCopy = strcmp(argv[1], "copy") == 0;
    long n = atol(argv[2]), steps = atol(argv[3]), repeats = atol(argv[4]);
    long a = n + 2, s1 = a, s0 = a * a, count = a * a * a;
    double *u = aligned_alloc(64, count * sizeof(double));
    double *v = aligned_alloc(64, count * sizeof(double));
    for (long k = 0; k < count; k++) {
        u[k] = (k % 97) * 0.01;
        v[k] = 0;
    }
    double best = 1e300;
    for (long r = 0; r < repeats; r++) {
        double start = now();
        for (long s = 0; s < steps; s++) {
            if (isCopy) copy(u, v, count);
            else heat(u, v, n, s0, s1, 0.1, 0.1, 0.1);
            double *t = u;
            u = v;
            v = t;
        }
        double elapsed = now() - start;
        if (elapsed < best) best = elapsed;
    }
    double cells = isCopy ? (double)count : (double)n * n * n;
    printf("%.6g\n", cells * steps / best);
    /* Keep the result alive so the loops are not optimised away. */
    if (u[count / 2] == 12345.678) puts("");
    free(u);
    free(v);
    return 0;
}
