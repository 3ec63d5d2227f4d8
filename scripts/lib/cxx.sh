# Sourced by the build scripts. ps_cxx_for CC: the C++ compiler that goes with the C compiler
# CC (clang -> clang++, gcc-12 -> g++-12, else c++), unless $CXX names one. The core's one C++
# file (core/src/model/phonelib.cc) must be built by the same family as the C files: with
# sanitizers, gcc's and clang's runtimes do not mix.
ps_cxx_for() {
  local cc=$1
  if [ -n "${CXX:-}" ]; then
    echo "$CXX"
  else
    case "$(basename "$cc")" in
      clang*) echo "${cc%clang*}clang++${cc##*clang}" ;;
      gcc*) echo "${cc%gcc*}g++${cc##*gcc}" ;;
      *) echo c++ ;;
    esac
  fi
}
