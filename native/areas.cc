// Placeholder until the feature lands: registers nothing yet.
#include "exports.h"

namespace memmap {

void RegisterAreas(Napi::Env, Napi::Object) {}

}  // namespace memmap
