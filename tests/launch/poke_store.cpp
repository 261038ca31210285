// tests/launch/poke_store.cpp — test tool: `poke_store FILE DATASET ROW VALUE` overwrites one
// element of a 1-D int64 dataset, to make a store malformed in exactly one place.
#include <hdf5.h>

#include <iostream>
#include <string>

int main(int argc, char** argv) {
  if (argc != 5) {
    std::cerr << "usage: poke_store FILE DATASET ROW VALUE\n";
    return 2;
  }
  const hid_t file = H5Fopen(argv[1], H5F_ACC_RDWR, H5P_DEFAULT);
  const hid_t dataset = file < 0 ? -1 : H5Dopen2(file, argv[2], H5P_DEFAULT);
  if (dataset < 0) {
    std::cerr << "poke_store: cannot open " << argv[1] << ":" << argv[2] << "\n";
    return 1;
  }
  const hsize_t row = std::stoull(argv[3]), count = 1;
  const long long value = std::stoll(argv[4]);
  const hid_t space = H5Dget_space(dataset);
  H5Sselect_hyperslab(space, H5S_SELECT_SET, &row, nullptr, &count, nullptr);
  const hid_t memory = H5Screate_simple(1, &count, nullptr);
  const herr_t status = H5Dwrite(dataset, H5T_NATIVE_LLONG, memory, space, H5P_DEFAULT, &value);
  H5Sclose(memory);
  H5Sclose(space);
  H5Dclose(dataset);
  H5Fclose(file);
  return status < 0 ? 1 : 0;
}
