// libopus's encoder settings for the tests that encode audio: `opus_encoder_ctl` is variadic
// and its requests are macros, neither of which Swift can import. Test-only: the server does
// not use Opus (it forwards the publishers' packets untouched).
#ifndef PARLEY_OPUS_SHIMS_H
#define PARLEY_OPUS_SHIMS_H

#include <stdint.h>
#include <opus.h>

int parley_opus_set_bitrate(OpusEncoder *encoder, int32_t bitsPerSecond);
int parley_opus_set_complexity(OpusEncoder *encoder, int32_t complexity);
int parley_opus_set_inband_fec(OpusEncoder *encoder, int32_t enabled);
int parley_opus_set_packet_loss_percent(OpusEncoder *encoder, int32_t percent);
int parley_opus_set_dtx(OpusEncoder *encoder, int32_t enabled);
int parley_opus_get_bitrate(OpusEncoder *encoder, int32_t *bitsPerSecond);

#endif
