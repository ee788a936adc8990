#pragma once
/// @file sdk.hpp
/// Everything a plugin author needs, in one include.

#include <tezgah/sdk/abi.hpp>
#include <tezgah/sdk/catalog.hpp>
#include <tezgah/sdk/channel.hpp>
#include <tezgah/sdk/config.hpp>
#include <tezgah/sdk/errors.hpp>
#include <tezgah/sdk/host.hpp>
#include <tezgah/sdk/json_schema.hpp>
#include <tezgah/sdk/json_text.hpp>
#include <tezgah/sdk/plugin.hpp>
#include <tezgah/sdk/random.hpp>
#include <tezgah/sdk/result.hpp>
#include <tezgah/sdk/text.hpp>
#include <tezgah/sdk/types.hpp>
