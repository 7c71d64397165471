#include "data/calibration_stream.h"

#include <algorithm>
#include <cstring>

namespace dopt {

StatusOr<std::unique_ptr<CalibrationStream>> CalibrationStream::Create(std::vector<std::unique_ptr<SampleSource>> sources,
                                                                        int64_t batch_size) {
  if (sources.empty()) return InvalidArgument("no calibration inputs");
  if (batch_size < 1) return InvalidArgument("calibration batch size must be at least 1, got " + std::to_string(batch_size));
  for (const auto& s : sources) {
    if (s->whole_samples() && batch_size != 1) {
      return InvalidArgument("input '" + s->input_name() + "' takes whole samples of " + ShapeToString(s->sample_shape()) +
                             " (its data is one rank above the input), so every calibration batch holds one sample, "
                             "but the batch size is " + std::to_string(batch_size));
    }
  }
  int64_t most = 0;
  for (const auto& s : sources) most = std::max(most, s->num_samples());
  for (const auto& s : sources) {
    if (s->num_samples() != most) {
      std::string others;
      for (const auto& o : sources) {
        others += (others.empty() ? "" : ", ") + ("'" + o->input_name() + "': " + std::to_string(o->num_samples()));
      }
      return InvalidArgument("input '" + s->input_name() + "' is short: it offers " + std::to_string(s->num_samples()) +
                             " samples, another input offers " + std::to_string(most) +
                             "; inputs are drawn in lockstep and must offer the same number (" + others + ")");
    }
  }
  std::unique_ptr<CalibrationStream> cs(new CalibrationStream());
  cs->sources_ = std::move(sources);
  cs->batch_size_ = batch_size;
  cs->num_samples_ = most;
  return cs;
}

StatusOr<bool> CalibrationStream::NextBatch(std::map<std::string, Tensor>* feeds) {
  feeds->clear();
  if (done_) return false;
  const size_t n = sources_.size();
  std::vector<Tensor> batch(n);
  std::vector<int64_t> floats(n);
  for (size_t i = 0; i < n; ++i) {
    Shape s = sources_[i]->sample_shape();
    floats[i] = NumElements(s);
    if (!sources_[i]->whole_samples()) s.insert(s.begin(), batch_size_);
    batch[i] = Tensor(DType::kFloat32, s);
  }
  int64_t filled = 0;
  while (filled < batch_size_) {
    std::vector<FetchResult> res(n);
    int ended = 0;
    bool skip = false;
    for (size_t i = 0; i < n; ++i) {
      DOPT_ASSIGN_OR_RETURN(res[i], sources_[i]->Next(batch[i].data<float>() + filled * floats[i]));
      if (res[i] == FetchResult::kEnd) ++ended;
      if (res[i] == FetchResult::kSkipped) skip = true;
    }
    if (ended == (int)n) {
      done_ = true;
      break;
    }
    if (ended > 0) {
      std::string shorts, longs;
      for (size_t i = 0; i < n; ++i) {
        std::string& l = res[i] == FetchResult::kEnd ? shorts : longs;
        l += (l.empty() ? "'" : ", '") + sources_[i]->input_name() + "'";
      }
      return InvalidArgument("input " + shorts + " is short: it ran out after " + std::to_string(position_) +
                             " samples while input " + longs +
                             " still has data; inputs are drawn in lockstep and must offer the same number of samples");
    }
    ++position_;
    if (skip) {
      ++skipped_;
      continue;
    }
    ++filled;
  }
  if (filled == 0) {
    if (drawn_ == 0) {
      std::string names;
      for (const auto& s : sources_) names += (names.empty() ? "" : ", ") + s->Describe();
      return InvalidArgument("no usable calibration sample: every sample was skipped (" + names + ")");
    }
    return false;
  }
  for (size_t i = 0; i < n; ++i) {
    Tensor t = batch[i];
    if (filled < batch_size_ && !sources_[i]->whole_samples()) {
      Shape s = t.shape();
      s[0] = filled;
      Tensor shorter(DType::kFloat32, s);
      std::memcpy(shorter.raw(), t.raw(), shorter.nbytes());
      t = shorter;
    }
    (*feeds)[sources_[i]->input_name()] = t;
  }
  drawn_ += filled;
  return true;
}

Status CalibrationStream::Rewind() {
  for (auto& s : sources_) DOPT_RETURN_IF_ERROR(s->Rewind());
  drawn_ = skipped_ = position_ = 0;
  done_ = false;
  return Status::Ok();
}

ImagePreprocess ImagePreprocessFor(const CalibInput& in, DataLayout layout) {
  ImagePreprocess pp;
  pp.nhwc = layout == DataLayout::kNHWC;
  pp.channels = ChannelsOf(in.shape, layout);
  pp.height = pp.nhwc ? in.shape[1] : in.shape[2];
  pp.width = pp.nhwc ? in.shape[2] : in.shape[3];
  pp.order = in.data.image_format;
  pp.mean = in.data.mean_value;
  pp.std = in.data.standard_deviation;
  return pp;
}

StatusOr<std::unique_ptr<CalibrationStream>> OpenCalibrationStream(const CalibRequest& req, const StreamOptions& opts) {
  std::vector<std::unique_ptr<SampleSource>> sources;
  for (const auto& in : req.inputs) {
    if (in.data.input_type == CalibInputType::kImage) {
      DOPT_ASSIGN_OR_RETURN(auto src, OpenImageFolderSource(in.name, in.data.resolved_path,
                                                            ImagePreprocessFor(in, req.layout), opts.warn));
      sources.push_back(std::move(src));
    } else {
      DOPT_ASSIGN_OR_RETURN(auto src, OpenBinSource(in.name, in.data.resolved_path, in.shape,
                                                     req.layout == DataLayout::kNHWC, opts.warn));
      sources.push_back(std::move(src));
    }
  }
  int64_t batch = opts.batch_size;
  if (batch <= 0) {
    // The batch dim of the first input fed sample by sample; 1 when every input takes whole samples.
    batch = 1;
    for (size_t i = 0; i < req.inputs.size(); ++i) {
      if (!sources[i]->whole_samples() && !req.inputs[i].shape.empty()) {
        batch = req.inputs[i].shape[0];
        break;
      }
    }
  }
  return CalibrationStream::Create(std::move(sources), batch);
}

}  // namespace dopt
