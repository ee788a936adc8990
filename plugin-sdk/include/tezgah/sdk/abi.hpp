#pragma once
/// @file abi.hpp
/// The plugin ABI version. A plugin records the version it was built against in its descriptor;
/// the loader refuses another major and a newer minor than the engine's.

namespace tezgah::sdk {

inline constexpr int kAbiMajor = 1;
// 1.1: ProviderRequest::deadline.
// 1.2: the descriptor records the size of its config keys and the plugin's capabilities;
//      ConfigKey says minimum, maximum, allowed values and secret; ToolSpec says read_only and
//      cacheable; LlmProvider::model(). The engine calls a 1.0 or 1.1 plugin through the layouts
//      it was built with (engine/src/plugins/legacy.*).
// 1.3: ProviderRequest::tool_examples, appended (a field the host fills): 1.0-1.2 plugins are
//      called as they are.
// 1.4: channels that send (channel.hpp): a new interface, ChannelSender, that a channel plugin
//      declaring kChannelSends in its descriptor's capabilities implements besides Channel. No
//      existing interface or type changed: 1.0-1.3 channels are called as they are, as receivers.
// 1.5: rich replies: ReplyOption and ReplyCard move from channel.hpp to types.hpp (same layout);
//      TurnReply gains options and cards, appended (the host builds it: a 1.4 channel reads the
//      fields it knew); ProviderResponse gains them too, appended, but a provider builds and
//      returns it, so the engine calls a 1.0-1.4 provider through its old layout (legacy.*).
// 1.5 (channels): the capability bits kChannelCustomerWindow (the outbox keeps the provider's
//      24-hour window) and kChannelBatches with the ChannelBatch interface (several customers'
//      messages in one request), and TEZGAH_CHANNEL_PLUGIN to declare them. A 1.4 channel
//      declares neither and is called as it is.
// 1.6: appointments: AppointmentBook (host.hpp), the host's booking service, and
//      HostServices::appointments(), appended and not pure (it answers null by default), so every
//      host written for 1.5 still compiles and a 1.5 plugin, which never calls it, is called as
//      it is. A 1.6 plugin that calls it needs a 1.6 host: the loader refuses it in an older one.
// 1.7: CatalogStore::held() and KnowledgeStore::held(), appended and not pure (null by default):
//      the records a store holds, read without a copy. A 1.6 plugin never calls them; a 1.7
//      plugin that does needs a 1.7 host (the loader refuses it in an older one).
inline constexpr int kAbiMinor = 7;

}  // namespace tezgah::sdk
