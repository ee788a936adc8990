#pragma once
/// @file markup.hpp
/// Text put inside XML or HTML that a channel writes (Twilio's TwiML, the widget's demo page).

#include <string>
#include <string_view>

namespace tezgah::sdk::text {

/// Text safe inside an XML or HTML element or a quoted attribute: `&<>"'` escaped, and the
/// control characters XML 1.0 forbids (all but tab, newline and carriage return) dropped.
std::string escape_markup(std::string_view text);

}  // namespace tezgah::sdk::text
