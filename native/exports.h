// Module-level functions each feature file adds to the binding's exports.
#pragma once

#include <napi.h>

namespace memmap {

void RegisterAreas(Napi::Env env, Napi::Object exports);     // areas.cc
void RegisterAccessors(Napi::Env env, Napi::Object exports); // accessors.cc
void RegisterSharing(Napi::Env env, Napi::Object exports);   // sharing.cc
void RegisterSharedMemory(Napi::Env env, Napi::Object exports); // shared_memory.cc

}  // namespace memmap
