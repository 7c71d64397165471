#include "frontends/pytorch/torch_helper_process.h"

#include <fcntl.h>
#include <ftw.h>
#include <glob.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "common/file_util.h"

extern char** environ;

namespace dopt {

namespace {

int RemoveEntry(const char* path, const struct stat*, int, struct FTW*) {
  std::remove(path);
  return 0;
}

std::string Trim(const std::string& s) {
  size_t a = s.find_first_not_of(" \t\r\n"), b = s.find_last_not_of(" \t\r\n");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

}  // namespace

StatusOr<TempDir> TempDir::Create() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/dopt-torch-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back(0);
  if (!mkdtemp(buf.data())) return IoError(tmpl + ": cannot create a temporary folder: " + std::strerror(errno));
  return TempDir(buf.data());
}

TempDir::~TempDir() {
  if (!path_.empty()) nftw(path_.c_str(), RemoveEntry, 16, FTW_DEPTH | FTW_PHYS);
}

StatusOr<std::string> FindTorchHelper() {
  if (const char* env = std::getenv("DOPT_TORCH_HELPER"); env && *env) {
    if (!IsRegularFile(env)) return NotFound(std::string("DOPT_TORCH_HELPER=") + env + " does not exist");
    return std::string(env);
  }
  std::vector<std::string> tried;
  std::string exe_dir = ExecutableDir();
  if (!exe_dir.empty()) {
    // build/dopt in a source tree; <prefix>/bin/dopt of an installed wheel.
    tried.push_back(exe_dir + "/../python/dopt/torch_helper.py");
    for (const char* pattern : {"/../lib/python3*/site-packages/dopt/torch_helper.py",
                                "/../lib/python3*/dist-packages/dopt/torch_helper.py",
                                "/../lib64/python3*/site-packages/dopt/torch_helper.py"}) {
      glob_t g;
      if (glob((exe_dir + pattern).c_str(), 0, nullptr, &g) == 0) {
        for (size_t i = 0; i < g.gl_pathc; ++i) tried.push_back(g.gl_pathv[i]);
      }
      globfree(&g);
    }
  }
#ifdef DOPT_SOURCE_DIR
  tried.push_back(std::string(DOPT_SOURCE_DIR) + "/python/dopt/torch_helper.py");  // the source tree built from
#endif
  for (const std::string& p : tried)
    if (IsRegularFile(p)) return p;
  std::string where;
  for (const std::string& p : tried) where += (where.empty() ? "" : ", ") + p;
  return NotFound("the PyTorch helper torch_helper.py was not found (looked in: " + where +
                  "); set DOPT_TORCH_HELPER to its path");
}

Status RunTorchHelper(const std::vector<std::string>& args, const std::string& work_dir) {
  DOPT_ASSIGN_OR_RETURN(std::string helper, FindTorchHelper());
  const char* env_py = std::getenv("DOPT_PYTHON");
  std::string python = env_py && *env_py ? env_py : "python3";
  std::vector<std::string> argv_s = {python, helper};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& s : argv_s) argv.push_back(s.data());
  argv.push_back(nullptr);

  const std::string err_path = JoinPath(work_dir, "helper.stderr");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, python.c_str(), &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    return NotFound("cannot run the Python interpreter '" + python + "' (" + std::strerror(rc) +
                    "); the PyTorch path needs Python with torch==2.13.0 (set DOPT_PYTHON)");
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return Internal(std::string("waitpid: ") + std::strerror(errno));
  }
  std::string err;
  if (StatusOr<std::string> r = ReadFileToString(err_path); r.ok()) err = *r;
  std::istringstream lines(err);
  std::string line, helper_error, last;
  const std::string kWarn = "dopt: warning: ", kErr = "dopt-helper: error: ", kNote = "dopt-helper: note: ";
  while (std::getline(lines, line)) {
    if (line.rfind(kWarn, 0) == 0) std::fprintf(stderr, "%s\n", line.c_str());
    if (line.rfind(kNote, 0) == 0) std::fprintf(stdout, "dopt: %s\n", line.substr(kNote.size()).c_str());
    if (line.rfind(kErr, 0) == 0) helper_error = line.substr(kErr.size());
    if (!Trim(line).empty()) last = Trim(line);
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return Status::Ok();
  if (!helper_error.empty()) return InvalidArgument(helper_error);
  std::string how = WIFEXITED(status) ? "exit status " + std::to_string(WEXITSTATUS(status))
                                      : "signal " + std::to_string(WTERMSIG(status));
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && last.empty()) last = "cannot start " + python;
  return Internal("the PyTorch helper failed (" + how + ")" + (last.empty() ? "" : ": " + last));
}

}  // namespace dopt
