# The libraries whose code uses pgcpp::Scalar (core/scalar.hpp) -- autodiff, common, sections,
# experiment and the interface chapter3 -- are built once per scalar in PGCPP_SCALARS:
#   <name>_float   Scalar = float   (when PGCPP_PROGRAM_SCALAR is float)
#   <name>_double  Scalar = double  (always: the tests use it)
# and <name> is an alias of the programs' one, <name>_${PGCPP_PROGRAM_SCALAR}, which demos, tools,
# libpgcpp.so and the install use. The scalar is set by linking pgcpp_scalar_<scalar>, an interface
# target (exported with the library, so a consumer compiles with the library's Scalar); nothing
# defines it globally. The two sets must never meet in one executable (the same class names with
# different layouts): a target links either the _float or the _double libraries.
# The environments (envs/) and plot/ compute in double or not at all: built once.
set(PGCPP_SCALARS ${PGCPP_PROGRAM_SCALAR})
if(NOT PGCPP_PROGRAM_SCALAR STREQUAL "double")
  list(APPEND PGCPP_SCALARS double)
endif()

add_library(pgcpp_scalar_float INTERFACE)
target_compile_definitions(pgcpp_scalar_float INTERFACE PGCPP_FLOAT=1)
add_library(pgcpp_scalar_double INTERFACE)

# pgcpp_scalar_library(<name> [INTERFACE] [SOURCES <file>...] [SCALAR_DEPS <lib>...] [DEPS <target>...])
#   SCALAR_DEPS: other scalar libraries (by base name, linked as <lib>_<scalar>); DEPS: the rest.
#   The program set's archive is lib<name>.a, the double set's lib<name>_double.a.
function(pgcpp_scalar_library name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "INTERFACE" "" "SOURCES;SCALAR_DEPS;DEPS")
  foreach(scalar IN LISTS PGCPP_SCALARS)
    set(target ${name}_${scalar})
    set(deps ${arg_DEPS} pgcpp_scalar_${scalar})
    foreach(dep IN LISTS arg_SCALAR_DEPS)
      list(APPEND deps ${dep}_${scalar})
    endforeach()
    if(arg_INTERFACE)
      add_library(${target} INTERFACE)
      target_link_libraries(${target} INTERFACE ${deps})
    else()
      add_library(${target} STATIC ${arg_SOURCES})
      target_include_directories(${target} PUBLIC $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}>
                                                  $<INSTALL_INTERFACE:${PGCPP_INSTALL_INCLUDEDIR}>)
      target_link_libraries(${target} PUBLIC ${deps})
      if(scalar STREQUAL PGCPP_PROGRAM_SCALAR)
        set_target_properties(${target} PROPERTIES OUTPUT_NAME ${name})
      endif()
    endif()
  endforeach()
  add_library(${name} ALIAS ${name}_${PGCPP_PROGRAM_SCALAR})
endfunction()
