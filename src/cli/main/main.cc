#include "cli/cli.h"

int main(int argc, char** argv) { return lake::cli::Main(argc, argv); }
