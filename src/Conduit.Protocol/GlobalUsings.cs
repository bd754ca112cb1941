global using MemoryPack;
