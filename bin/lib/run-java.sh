# Sourced by bin/demo, bin/ainative-job-server and bin/bench: builds a module with what it needs
# (unless AINATIVE_SKIP_BUILD is set) and runs a main class on that module's runtime classpath
# with the JVM flags Flink needs on Java 17 (the same list as pom.xml and README.md).
# Usage: run_java MODULE MAIN_CLASS [ARGS...]
run_java() {
  local module="$1" main="$2"
  shift 2
  local add_opens=()
  local pkg
  for pkg in java.util java.lang java.lang.reflect java.lang.invoke java.io java.net java.nio \
      sun.nio.ch java.text java.time java.util.concurrent java.util.concurrent.atomic \
      java.util.concurrent.locks; do
    add_opens+=("--add-opens=java.base/$pkg=ALL-UNNAMED")
  done
  if [ -z "${AINATIVE_SKIP_BUILD:-}" ]; then
    echo "Building ainative (mvn -q install -DskipTests -pl $module -am) ..." >&2
    mvn -B -q install -DskipTests -pl "$module" -am
  fi
  local cp="$module/target/classes:$(cat "$module/target/runtime-classpath.txt")"
  exec java -Xmx4g "${add_opens[@]}" -Dai.djl.offline=true -cp "$cp" "$main" "$@"
}
