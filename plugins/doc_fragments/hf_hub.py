# -*- coding: utf-8 -*-
# Copyright: strix.opencode contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The options hf_download and hf_snapshot share: where the Hub is, how to log in, how long to wait.
    DOCUMENTATION = r"""
options:
  repo_id:
    description: The repository, C(owner/name).
    type: str
    required: true
  revision:
    description: A branch, tag or commit.
    type: str
    default: main
  token:
    description:
      - A Hugging Face token, for gated and private repositories. Defaults to the C(HF_TOKEN) environment variable.
      - It is sent only to the endpoint's host, never to a host a redirect leads to, and never shown.
    type: str
  endpoint:
    description:
      - The Hub or a mirror. Defaults to the C(HF_ENDPOINT) environment variable, then C(https://huggingface.co).
    type: str
  mirror:
    description:
      - A LAN mirror of the models (a plain HTTP server, such as the M(strix.opencode.mirror) role's nginx), holding
        files at C(<mirror>/<repo_id>/<commit>/<filename>). The Hub still says which commit, size and sha256 a file
        has (one HEAD request); the bytes come from the mirror when it has that file, from the Hub when it lacks it
        (404). A mirror copy of another size, or one whose sha256 differs from the Hub's, fails naming the mirror.
      - The token is never sent to the mirror.
    type: str
  timeout:
    description: Seconds to wait for the server at each step (connection, each read).
    type: int
    default: 60
  progress_file:
    description:
      - A file rewritten about once a second while a file downloads, with JSON C({path, done, total, percent, rate,
        finished}); for a task run with C(async) and C(poll=0).
    type: path
notes:
  - Errors are one line naming repository, file and revision; a token never appears in them.
"""
