// main() for test binaries that need DPDK: GoogleTest plus one EAL per process.
#include <gtest/gtest.h>

#include "eal_environment.hpp"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new sluice::test::EalEnvironment);  // gtest owns it
  return RUN_ALL_TESTS();
}
