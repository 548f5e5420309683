# Voicemail boxes and messages arrive with the voicemail issue (E1-E7, E10).
