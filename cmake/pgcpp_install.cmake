# The library for other projects: libpgcpp.so, `cmake --install`, and find_package(pgcpp).
#
#   cmake --install build --prefix /opt/pgcpp
#   # in another project:
#   find_package(pgcpp CONFIG REQUIRED)            # -DCMAKE_PREFIX_PATH=/opt/pgcpp
#   target_link_libraries(app PRIVATE pgcpp::pgcpp)  # the shared library, all of pgcpp
#   #include "chapter3/3_2_3_reinforce.hpp"          // the same include paths as in this tree
#
# Installed: the headers of core/, autodiff/, plot/, envs/, chapter3/ and experiment/ under include/pgcpp/ (so
# "autodiff/autodiff.hpp" resolves as here), the static libraries (pgcpp::autodiff, pgcpp::plot,
# pgcpp::envs, pgcpp::common, pgcpp::experiment, pgcpp::sections, and pgcpp::chapter3 = all of
# them), the shared library libpgcpp.so (pgcpp::pgcpp: the objects of all of them in one file,
# for cling and other dynamic loaders), and lib/cmake/pgcpp/pgcppConfig.cmake with its version
# file. The library is the programs' set (PGCPP_PROGRAM_SCALAR, float by default: pgcpp_SCALAR says
# which); the tests' double set is not installed. A consumer inherits what must match the library:
# the Scalar type (pgcpp::scalar defines PGCPP_FLOAT), Eigen and threads, the sanitizer flags of an asan build, and -march=native when the library was built
# with it (Eigen's alignment, and so its ABI, follows the instruction set: use the `portable`
# preset for a library to be used on other machines or from cling).
include(CMakePackageConfigHelpers)

set(PGCPP_STATIC_LIBRARIES pgcpp_plot pgcpp_envs)
foreach(lib pgcpp_autodiff pgcpp_common pgcpp_experiment pgcpp_sections)
  list(APPEND PGCPP_STATIC_LIBRARIES ${lib}_${PGCPP_PROGRAM_SCALAR})
endforeach()

add_library(pgcpp_shared SHARED)
foreach(lib IN LISTS PGCPP_STATIC_LIBRARIES)
  target_sources(pgcpp_shared PRIVATE $<TARGET_OBJECTS:${lib}>)
endforeach()
target_include_directories(pgcpp_shared PUBLIC $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}>
                                               $<INSTALL_INTERFACE:${PGCPP_INSTALL_INCLUDEDIR}>)
target_link_libraries(pgcpp_shared PUBLIC Eigen3::Eigen pgcpp_options pgcpp_scalar_${PGCPP_PROGRAM_SCALAR})
set_target_properties(pgcpp_shared PROPERTIES OUTPUT_NAME pgcpp EXPORT_NAME pgcpp
                      VERSION ${PROJECT_VERSION} SOVERSION ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR}
                      LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/lib)
add_library(pgcpp::pgcpp ALIAS pgcpp_shared)

# Built with -march=native, the library must be used with it too (see above).
if(PGCPP_NATIVE AND CMAKE_BUILD_TYPE MATCHES "^(Release|RelWithDebInfo)$")
  target_compile_options(pgcpp_options INTERFACE $<INSTALL_INTERFACE:-march=native>)
endif()

set(scalar_target pgcpp_scalar_${PGCPP_PROGRAM_SCALAR})
foreach(lib IN LISTS PGCPP_STATIC_LIBRARIES)
  string(REGEX REPLACE "^pgcpp_(.*)_${PGCPP_PROGRAM_SCALAR}$" "\\1" short ${lib})
  string(REPLACE "pgcpp_" "" short ${short})
  set_target_properties(${lib} PROPERTIES EXPORT_NAME ${short})
endforeach()
set_target_properties(pgcpp_options PROPERTIES EXPORT_NAME options)
set_target_properties(pgcpp_core PROPERTIES EXPORT_NAME core)
set_target_properties(${scalar_target} PROPERTIES EXPORT_NAME scalar)
set_target_properties(pgcpp_chapter3_${PGCPP_PROGRAM_SCALAR} PROPERTIES EXPORT_NAME chapter3)

install(TARGETS pgcpp_shared pgcpp_chapter3_${PGCPP_PROGRAM_SCALAR} pgcpp_options pgcpp_core ${scalar_target}
                ${PGCPP_STATIC_LIBRARIES}
        EXPORT pgcppTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
foreach(area core autodiff plot envs chapter3 experiment)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${area} DESTINATION ${PGCPP_INSTALL_INCLUDEDIR}
          FILES_MATCHING PATTERN "*.hpp")
endforeach()
install(EXPORT pgcppTargets NAMESPACE pgcpp:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/pgcpp)

file(WRITE ${CMAKE_BINARY_DIR}/pgcppConfig.cmake.in [=[
# pgcpp: C++ reference implementation of Chapter 3, Policy Gradient Methods.
@PACKAGE_INIT@
include(CMakeFindDependencyMacro)
find_dependency(Eigen3 3.4 CONFIG)
find_dependency(Threads)
include("${CMAKE_CURRENT_LIST_DIR}/pgcppTargets.cmake")
set(pgcpp_SCALAR "@PGCPP_PROGRAM_SCALAR@")  # pgcpp::Scalar: float, or double (-DPGCPP_PROGRAM_SCALAR=double)
check_required_components(pgcpp)
]=])
configure_package_config_file(${CMAKE_BINARY_DIR}/pgcppConfig.cmake.in ${CMAKE_BINARY_DIR}/pgcppConfig.cmake
                              INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/pgcpp)
write_basic_package_version_file(${CMAKE_BINARY_DIR}/pgcppConfigVersion.cmake
                                 VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/pgcppConfig.cmake ${CMAKE_BINARY_DIR}/pgcppConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/pgcpp)
