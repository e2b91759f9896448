// The C ABI's declarations (include/voxenc.h) are implemented in Swift (Sources/VoxEncC); this target only carries
// the header, so that the Swift side is compiled against the very types C callers see.
#include "voxenc.h"
