// Square roots for Tessera's kernels, one value or four at a time.
//
// Swift's `squareRoot()` keeps C's `sqrt` semantics, which set errno for a negative
// argument: the compiler emits a branch and a libm call per value and cannot vectorise the
// loop, and on SIMD4<Double> it takes the four lanes one by one. Clang's elementwise
// builtin is the plain IEEE square root (one instruction, vectorisable), correctly rounded
// like `sqrt`, so the bits are the same.
#ifndef TESSERA_CLANES_H
#define TESSERA_CLANES_H

typedef double tessera_double4 __attribute__((ext_vector_type(4)));

static inline double tessera_sqrt(double x) { return __builtin_elementwise_sqrt(x); }

static inline tessera_double4 tessera_sqrt4(tessera_double4 x) { return __builtin_elementwise_sqrt(x); }

#endif
