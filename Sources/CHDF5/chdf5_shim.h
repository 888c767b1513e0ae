// Shims for the parts of <hdf5.h> that Swift cannot import.
//
// HDF5's native type ids (H5T_NATIVE_DOUBLE, ...) and property-list classes (H5P_FILE_ACCESS,
// ...) are macros that call H5open() and read a library global; H5F_ACC_TRUNC and friends
// expand to expressions with a version check. Swift's importer drops them all, so each has a
// getter here, prefixed `chdf5_`. This is the parallel build of HDF5, so <mpi.h> comes along.
#ifndef CHDF5_SHIM_H
#define CHDF5_SHIM_H

#include <hdf5.h>

static inline hid_t chdf5_native_double(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t chdf5_native_float(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t chdf5_native_int64(void) { return H5T_NATIVE_INT64; }
static inline hid_t chdf5_native_uint64(void) { return H5T_NATIVE_UINT64; }
static inline hid_t chdf5_native_int32(void) { return H5T_NATIVE_INT32; }
static inline hid_t chdf5_native_int8(void) { return H5T_NATIVE_INT8; }
static inline hid_t chdf5_c_s1(void) { return H5T_C_S1; }

static inline hid_t chdf5_p_file_create(void) { return H5P_FILE_CREATE; }
static inline hid_t chdf5_p_file_access(void) { return H5P_FILE_ACCESS; }
static inline hid_t chdf5_p_dataset_create(void) { return H5P_DATASET_CREATE; }
static inline hid_t chdf5_p_dataset_xfer(void) { return H5P_DATASET_XFER; }
static inline hid_t chdf5_p_link_create(void) { return H5P_LINK_CREATE; }

static inline unsigned chdf5_acc_trunc(void) { return H5F_ACC_TRUNC; }
static inline unsigned chdf5_acc_excl(void) { return H5F_ACC_EXCL; }
static inline unsigned chdf5_acc_rdonly(void) { return H5F_ACC_RDONLY; }
static inline unsigned chdf5_acc_rdwr(void) { return H5F_ACC_RDWR; }

static inline hsize_t chdf5_unlimited(void) { return H5S_UNLIMITED; }
static inline hid_t chdf5_s_all(void) { return H5S_ALL; }
static inline hid_t chdf5_e_default(void) { return H5E_DEFAULT; }
static inline size_t chdf5_variable(void) { return H5T_VARIABLE; }

#endif
