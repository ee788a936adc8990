#pragma once
/// @file abi.hpp
/// The plugin ABI version. A plugin records the version it was built against in its descriptor;
/// the loader refuses another major and a newer minor than the engine's.

namespace tezgah::sdk {

inline constexpr int kAbiMajor = 1;
inline constexpr int kAbiMinor = 1;  // 1.1: ProviderRequest::deadline

}  // namespace tezgah::sdk
