"""What every test layer and the benchmarks share: throwaway servers, local fakes of
provider APIs, settings, clocks and sample files."""
