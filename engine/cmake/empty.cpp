// Keeps an area library that has no sources yet linkable.
