# The install_consumer test: installs the build tree into a fresh prefix, configures and builds
# tests/consumer against it with find_package(pgcpp CONFIG REQUIRED), and runs the consumer.
#   cmake -DBUILD_DIR=... -DSOURCE_DIR=... -DWORK_DIR=... -DCXX=... -DBUILD_TYPE=... -DLIBDIR=lib -DSCALAR=float
#         -P run_consumer_test.cmake
# SCALAR is the library's (PGCPP_PROGRAM_SCALAR): pgcppConfig.cmake must say it, and the consumer,
# compiled with what pgcpp::pgcpp exports, must have it as its pgcpp::Scalar.
foreach(v BUILD_DIR SOURCE_DIR WORK_DIR CXX BUILD_TYPE LIBDIR SCALAR)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "run_consumer_test.cmake: ${v} not set")
  endif()
endforeach()
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})

function(step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${out}\n${err}")
  endif()
  set(step_output "${out}" PARENT_SCOPE)
endfunction()

step("cmake --install" ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${WORK_DIR}/prefix)
foreach(f include/pgcpp/autodiff/autodiff.hpp include/pgcpp/chapter3/3_2_3_reinforce.hpp ${LIBDIR}/libpgcpp.so
          ${LIBDIR}/libpgcpp_autodiff.a ${LIBDIR}/cmake/pgcpp/pgcppConfig.cmake ${LIBDIR}/cmake/pgcpp/pgcppConfigVersion.cmake)
  if(NOT EXISTS ${WORK_DIR}/prefix/${f})
    message(FATAL_ERROR "cmake --install did not install ${f}")
  endif()
endforeach()
step("configuring tests/consumer" ${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/consumer -B ${WORK_DIR}/build
     -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_BUILD_TYPE=${BUILD_TYPE}
     -DEXPECTED_SCALAR=${SCALAR})
step("building tests/consumer" ${CMAKE_COMMAND} --build ${WORK_DIR}/build)
step("running the consumer" ${WORK_DIR}/build/consumer ${WORK_DIR}/policy.safetensors)
message(STATUS "${step_output}")
if(NOT step_output MATCHES "scalar ${SCALAR}: ok")
  message(FATAL_ERROR "the consumer's pgcpp::Scalar is not the library's (${SCALAR})")
endif()
file(REMOVE_RECURSE ${WORK_DIR})
